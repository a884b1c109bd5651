// CPU seconds spent by each part of the run between two snapshots: the apps (by pid), the
// services of the local stack (Kafka and GreenMail by their pid files, every `postgres`
// process of the machine's server), and the whole machine from /proc/stat — so a figure
// per ticket holds even when something else loads the machine, and shows where it goes.
import { readFileSync, readdirSync } from 'node:fs';

const CLK_TCK = 100; // USER_HZ on Linux

function cpuOfPid(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return 0; // exited
  }
}

function pidsNamed(comm: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === comm) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function pidFile(path: string): number | null {
  try {
    return Number(readFileSync(path, 'utf8').trim()) || null;
  } catch {
    return null;
  }
}

/** Busy CPU seconds of the whole machine (all cores), from the first line of /proc/stat. */
function machineBusy(): number {
  const [, ...v] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const n = v.map(Number);
  // user nice system idle iowait irq softirq steal
  return (n[0]! + n[1]! + n[2]! + n[5]! + n[6]! + n[7]!) / CLK_TCK;
}

export type CpuSnapshot = Map<string, number>;

/** `apps`: name → pid; every postgres process is kept by pid (`pg:<pid>`), see cpuBetween. */
export function snapshotCpu(apps: Map<string, number>, runDir: string): CpuSnapshot {
  const snap: CpuSnapshot = new Map();
  for (const [name, pid] of apps) snap.set(name, cpuOfPid(pid));
  for (const service of ['kafka', 'greenmail']) {
    const pid = pidFile(`${runDir}/${service}.pid`);
    if (pid) snap.set(service, cpuOfPid(pid));
  }
  for (const pid of pidsNamed('postgres')) snap.set(`pg:${pid}`, cpuOfPid(pid));
  snap.set('machine', machineBusy());
  return snap;
}

/**
 * CPU seconds per part between two snapshots. Postgres is the sum over `postgresPids`
 * (taken at the end: backends a pool opened during the run count from zero); without
 * them, over every postgres process of the machine.
 */
export function cpuBetween(
  a: CpuSnapshot,
  b: CpuSnapshot,
  postgresPids?: readonly PostgresProcess[],
): Map<string, number> {
  const out = new Map<string, number>();
  let pg = 0;
  const owner = new Map(postgresPids?.map((p) => [`pg:${p.pid}`, p.owner]));
  for (const [k, v] of b) {
    const d = Math.max(0, v - (a.get(k) ?? 0));
    if (!k.startsWith('pg:')) out.set(k, d);
    else if (!postgresPids || owner.has(k)) {
      pg += d;
      const who = owner.get(k);
      if (who) out.set(`postgres:${who}`, (out.get(`postgres:${who}`) ?? 0) + d);
    }
  }
  out.set('postgres', pg);
  return out;
}

/** A Postgres process of the run and whom it works for (application_name, or the server). */
export interface PostgresProcess {
  pid: number;
  owner: string;
}
/**
 * The Postgres processes that work for this run: the backends connected to its database
 * (other databases on a shared server are someone else's) and the server's own WAL
 * writer, checkpointer and background writer, which all databases share.
 */
export async function postgresPidsOf(
  query: (sql: string) => Promise<{ rows: { pid: number; owner: string }[] }>,
): Promise<PostgresProcess[]> {
  const { rows } = await query(
    `SELECT pid, CASE WHEN datname = current_database() THEN coalesce(nullif(application_name, ''), 'other') ELSE 'server' END AS owner
     FROM pg_stat_activity
     WHERE datname = current_database() OR backend_type IN ('walwriter', 'checkpointer', 'background writer')`,
  );
  return rows;
}
