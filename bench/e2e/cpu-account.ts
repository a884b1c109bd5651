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

/**
 * `apps`: name → pid. Postgres is summed over all its processes alive at each snapshot
 * (a backend that exited in between is not counted: a lower bound).
 */
export function snapshotCpu(apps: Map<string, number>, runDir: string): CpuSnapshot {
  const snap: CpuSnapshot = new Map();
  for (const [name, pid] of apps) snap.set(name, cpuOfPid(pid));
  for (const service of ['kafka', 'greenmail']) {
    const pid = pidFile(`${runDir}/${service}.pid`);
    if (pid) snap.set(service, cpuOfPid(pid));
  }
  snap.set(
    'postgres',
    pidsNamed('postgres').reduce((a, pid) => a + cpuOfPid(pid), 0),
  );
  snap.set('machine', machineBusy());
  return snap;
}

export function cpuBetween(a: CpuSnapshot, b: CpuSnapshot): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of b) out.set(k, Math.max(0, v - (a.get(k) ?? 0)));
  return out;
}
