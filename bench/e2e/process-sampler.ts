// Samples each app process once a second: CPU (utime+stime from /proc/<pid>/stat), RSS
// (VmRSS from /proc/<pid>/status) and its consumer lag (mailroom_consumer_lag summed
// over partitions, from the app's own /metrics).
import { readFileSync } from 'node:fs';
import type { Admin } from 'kafkajs';
import type { AppName, Pipeline } from '../../test/support/pipeline.js';

const CLK_TCK = 100; // USER_HZ on Linux

export interface Sample {
  at: number;
  cpuSeconds: number;
  rssBytes: number;
  /** From the app's /metrics (set when a batch ends: stale while a long batch runs). */
  lag: number | null;
  /** From the broker: end offsets minus the group's committed offsets. */
  groupLag: number | null;
}

const TOPICS_OF: Partial<Record<AppName, string[]>> = {
  'ticket-store': ['tickets.raw', 'tickets.commands', 'tickets.events'],
  categorizer: ['tickets.events'],
  router: ['tickets.events', 'tickets.commands'],
  notifier: ['tickets.events'],
  analytics: ['tickets.events'],
};

async function groupLag(admin: Admin, groupId: string, topics: string[]): Promise<number> {
  let lag = 0;
  const committed = await admin.fetchOffsets({ groupId, topics });
  for (const t of committed) {
    const ends = await admin.fetchTopicOffsets(t.topic);
    for (const p of t.partitions) {
      const end = Number(ends.find((e) => e.partition === p.partition)?.high ?? 0);
      // The harness commits every group at the newest offsets before the apps start;
      // a partition without a commit (a topic made later) counts as caught up.
      if (Number(p.offset) >= 0) lag += Math.max(0, end - Number(p.offset));
    }
  }
  return lag;
}

function procCpuSeconds(pid: number): number {
  // Fields after the ")" of comm: state is field 3; utime 14, stime 15.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

function procRssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

export function lagOf(metrics: string): number | null {
  let sum: number | null = null;
  for (const line of metrics.split('\n')) {
    if (!line.startsWith('mailroom_consumer_lag{')) continue;
    sum = (sum ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

export interface Sampler {
  samples: Map<AppName, Sample[]>;
  stop(): Promise<void>;
}

export function startSampler(pipeline: Pipeline, admin: Admin, everyMs = 1_000): Sampler {
  const samples = new Map<AppName, Sample[]>();
  const once = async () => {
    await Promise.all(
      [...pipeline.apps.values()].map(async (app) => {
        if (!app.alive) return;
        let lag: number | null = null;
        if (app.name !== 'intake-api' && app.name !== 'imap-poller') {
          const res = await fetch(pipeline.url(app.name, '/metrics'), {
            signal: AbortSignal.timeout(2_000),
          }).catch(() => undefined);
          if (res?.ok) lag = lagOf(await res.text());
        }
        const group = pipeline.groups[app.name];
        const topics = TOPICS_OF[app.name];
        const gl = group && topics ? await groupLag(admin, group, topics) : null;
        const list = samples.get(app.name) ?? [];
        list.push({
          at: Date.now(),
          cpuSeconds: procCpuSeconds(app.pid),
          rssBytes: procRssBytes(app.pid),
          lag,
          groupLag: gl,
        });
        samples.set(app.name, list);
      }),
    );
  };
  let running = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(once).catch((err: unknown) => {
      console.error('sampler:', err);
    });
  }, everyMs);
  return {
    samples,
    stop: async () => {
      clearInterval(timer);
      await running;
      await once();
    },
  };
}

export interface ProcessSummary {
  app: AppName;
  cpuAvgPct: number;
  cpuPeakPct: number;
  rssPeakMb: number;
  lagMax: number | null;
  /** Seconds from the first sample until the lag first exceeded `lagThreshold`. */
  lagOverAt: number | null;
}

export function summarize(
  samples: Map<AppName, Sample[]>,
  from: number,
  to: number,
  lagThreshold: number,
): ProcessSummary[] {
  return [...samples.entries()].map(([app, all]) => {
    const s = all.filter((x) => x.at >= from - 1_000 && x.at <= to + 1_000);
    let peak = 0;
    for (let i = 1; i < s.length; i++) {
      const dt = (s[i]!.at - s[i - 1]!.at) / 1000;
      if (dt > 0) peak = Math.max(peak, ((s[i]!.cpuSeconds - s[i - 1]!.cpuSeconds) / dt) * 100);
    }
    const first = s[0];
    const last = s.at(-1);
    const span = first && last ? (last.at - first.at) / 1000 : 0;
    const lags = s.map((x) => x.groupLag ?? x.lag).filter((x): x is number => x !== null);
    const over = s.find((x) => (x.groupLag ?? x.lag ?? 0) > lagThreshold);
    return {
      app,
      cpuAvgPct: span > 0 ? ((last!.cpuSeconds - first!.cpuSeconds) / span) * 100 : 0,
      cpuPeakPct: peak,
      rssPeakMb: Math.max(0, ...s.map((x) => x.rssBytes)) / 1024 / 1024,
      lagMax: lags.length ? Math.max(...lags) : null,
      lagOverAt: over ? (over.at - from) / 1000 : null,
    };
  });
}
