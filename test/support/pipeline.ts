// The whole pipeline as separate child processes, as it runs in production: one
// `node --import tsx apps/<app>/src/main.ts` per app, configured only through its
// environment. Each run has its own consumer groups (their offsets committed at the
// newest records before the apps start, so nothing of earlier runs is read and nothing
// of this run is skipped), its own rollup schema, its own IMAP checkpoint and API key, so it runs beside other
// tests on the shared topics and database. Any app can be SIGKILLed and restarted.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ImapFlow } from 'imapflow';
import { createRollupSchema } from '@mailroom/analytics';
import { createPool } from '@mailroom/db';
import { createKafka, parseBrokers } from '@mailroom/kafka';
import { stackEnv, testLogger, unique } from './env.js';
import { commitNewestOffsets } from './offsets.js';

/** The image's NODE_OPTIONS (Dockerfile), for apps spawned as processes. */
export const APP_NODE_OPTIONS = '--max-old-space-size=160';
export const PIPELINE_APPS = [
  'ticket-store',
  'categorizer',
  'router',
  'notifier',
  'analytics',
  'imap-poller',
  'intake-api',
] as const;
export type AppName = (typeof PIPELINE_APPS)[number];

/** Consumer apps and the variable prefix of their group id / start offset. */
const CONSUMERS: Partial<Record<AppName, string>> = {
  'ticket-store': 'TICKET_STORE',
  categorizer: 'CATEGORIZER',
  router: 'ROUTER',
  notifier: 'NOTIFIER',
  analytics: 'ANALYTICS',
};

export interface PipelineOptions {
  /** Apps to run (default: all seven). */
  apps?: readonly AppName[];
  /** Extra environment per app, over the defaults below. */
  env?: Partial<Record<AppName, Record<string, string>>>;
  /** KAFKA_REPLICATION_FACTOR of every app and of the topics made before they start. */
  replicationFactor?: number;
  logLevel?: string;
  /** Where each app's stdout/stderr goes (default $MAILROOM_DATA_DIR/logs/pipeline). */
  logDir?: string;
  readyTimeoutMs?: number;
  /** IMAP mailbox the imap-poller ingests (default GreenMail's support@ INBOX); `port`
   * lets the poller go through a proxy of GreenMail's IMAP port. */
  imap?: { user: string; password: string; port?: number };
  /** Database of every app and of the harness's own set-up (default the stack's DATABASE_URL). */
  databaseUrl?: string;
}

export interface AppProcess {
  name: AppName;
  /** HTTP port: intake-api's API port, else the /metrics + /ready port. */
  port: number;
  pid: number;
  alive: boolean;
  /** Exits seen so far that the harness did not cause (a crash). */
  crashes: { code: number | null; signal: string | null; at: number }[];
}

export interface Pipeline {
  runId: string;
  apiKey: string;
  intakeUrl: string;
  groups: Partial<Record<AppName, string>>;
  analyticsSchema: string;
  /** The IMAP checkpoint name (the `mailbox` of the poller's records). */
  mailboxName: string;
  apps: Map<AppName, AppProcess>;
  url(name: AppName, path: string): string;
  kill(name: AppName, signal?: NodeJS.Signals): Promise<void>;
  restart(name: AppName): Promise<void>;
  /** Whether /ready answers 200. */
  ready(name: AppName): Promise<boolean>;
  stop(): Promise<void>;
}

/** A port free right now (the app binds it a moment later; a clash fails its start loudly). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A new IMAP checkpoint at the mailbox's current last UID: the poller of this run takes
 * only mail that arrives from now on (the IMAP twin of FROM_BEGINNING=false).
 */
async function seedImapCheckpoint(
  databaseUrl: string,
  name: string,
  user: string,
  password: string,
): Promise<void> {
  const client = new ImapFlow({
    host: stackEnv('IMAP_HOST'),
    port: Number(stackEnv('IMAP_PORT')),
    secure: false,
    auth: { user, pass: password },
    logger: false,
  });
  await client.connect();
  let status;
  try {
    status = await client.status('INBOX', { uidNext: true, uidValidity: true });
  } finally {
    await client.logout();
  }
  if (!status) throw new Error(`IMAP STATUS of ${user}'s INBOX failed`);
  const pool = createPool({ url: databaseUrl, max: 1 });
  try {
    await pool.query(
      `INSERT INTO imap_checkpoints (mailbox, uid_validity, last_uid, updated_at) VALUES ($1, $2, $3, now())`,
      [name, String(status.uidValidity ?? 0n), Math.max(0, (status.uidNext ?? 1) - 1)],
    );
  } finally {
    await pool.end();
  }
}

/** Whether GET `url` answers 2xx within 3 s. */
export async function httpOk(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3_000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

export async function startPipeline(options: PipelineOptions = {}): Promise<Pipeline> {
  const runId = unique('pipe');
  const names = options.apps ?? PIPELINE_APPS;
  const root = stackEnv('MAILROOM_ROOT');
  const logDir = options.logDir ?? join(stackEnv('MAILROOM_DATA_DIR'), 'logs', 'pipeline');
  mkdirSync(logDir, { recursive: true });
  const apiKey = `${runId}-key-0123456789abcdef`;
  const analyticsSchema = runId.replace(/-/g, '_');
  const mailboxName = `${runId}:support`;
  const imap = options.imap ?? { user: `support@${stackEnv('MAIL_DOMAIN')}`, password: 'support' };
  const groups: Partial<Record<AppName, string>> = {};
  const databaseUrl = options.databaseUrl ?? stackEnv('DATABASE_URL');
  const kafka = createKafka({
    brokers: parseBrokers(stackEnv('KAFKA_BROKERS')),
    clientId: runId,
    logger: testLogger('pipeline'),
  });

  if (names.includes('analytics')) {
    const admin = createPool({ url: databaseUrl, max: 1 });
    try {
      await createRollupSchema(admin, analyticsSchema);
    } finally {
      await admin.end();
    }
  }
  if (names.includes('imap-poller'))
    await seedImapCheckpoint(databaseUrl, mailboxName, imap.user, imap.password);

  const envOf = (name: AppName, port: number): Record<string, string> => {
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      LOG_LEVEL: options.logLevel ?? 'info',
      KAFKA_CLIENT_ID: runId,
      METRICS_PORT: String(port),
      DATABASE_URL: databaseUrl,
      // As in the image (Dockerfile): each app's V8 old space capped, so that a process
      // behind a backlog stays under 250 MB instead of growing its heap lazily.
      NODE_OPTIONS: process.env.NODE_OPTIONS ?? APP_NODE_OPTIONS,
    };
    if (options.replicationFactor) env.KAFKA_REPLICATION_FACTOR = String(options.replicationFactor);
    const prefix = CONSUMERS[name];
    const group = groups[name];
    if (prefix && group) {
      env[`${prefix}_GROUP_ID`] = group;
      env[`${prefix}_FROM_BEGINNING`] = 'true';
    }
    if (name === 'intake-api') {
      Object.assign(env, {
        PORT: String(port),
        BOOTSTRAP_API_KEYS: `${runId}:intake+agent:${apiKey}`,
        RATE_LIMIT_PER_MINUTE: '100000000',
        PIPELINE_HEALTH_URLS: '',
      });
    }
    // The load uses a few requester addresses: the per-sender ack limit is for humans.
    if (name === 'notifier') env.ACK_RATE_LIMIT_PER_HOUR = '100000000';
    if (name === 'analytics') env.ANALYTICS_DB_SCHEMA = analyticsSchema;
    if (name === 'imap-poller') {
      env.IMAP_MAILBOXES = JSON.stringify([
        {
          name: mailboxName,
          host: stackEnv('IMAP_HOST'),
          port: imap.port ?? Number(stackEnv('IMAP_PORT')),
          user: imap.user,
          password: imap.password,
        },
      ]);
      env.IMAP_POLL_INTERVAL_MS = '5000';
      env.IMAP_RECONNECT_MAX_MS = '2000';
    }
    return { ...env, ...options.env?.[name] };
  };

  const apps = new Map<AppName, AppProcess>();
  const children = new Map<AppName, ChildProcess>();
  const expectedExit = new Set<AppName>();

  const spawnApp = async (name: AppName, port: number) => {
    const log = openSync(join(logDir, `${runId}-${name}.log`), 'a');
    // MAILROOM_CPU_PROF_DIR: each app writes a V8 CPU profile there when it exits (bench).
    const prof = process.env.MAILROOM_CPU_PROF_DIR;
    const profArgs = prof ? ['--cpu-prof', `--cpu-prof-dir=${join(prof, name)}`] : [];
    const child = spawn(
      process.execPath,
      [...profArgs, '--import', 'tsx', `apps/${name}/src/main.ts`],
      {
        cwd: root,
        env: envOf(name, port),
        stdio: ['ignore', log, log],
      },
    );
    closeSync(log);
    const app: AppProcess = { name, port, pid: child.pid ?? -1, alive: true, crashes: [] };
    apps.set(name, app);
    children.set(name, child);
    child.once('exit', (code, signal) => {
      app.alive = false;
      if (!expectedExit.delete(name)) app.crashes.push({ code, signal, at: Date.now() });
    });
  };

  const url = (name: AppName, path: string) =>
    `http://127.0.0.1:${apps.get(name)?.port ?? 0}${path}`;
  const ready = (name: AppName) => httpOk(url(name, '/ready'));

  const waitReady = async (name: AppName, joined = true) => {
    const deadline = Date.now() + (options.readyTimeoutMs ?? 90_000);
    while (!(await ready(name))) {
      const app = apps.get(name)!;
      if (!app.alive) throw new Error(`${name} exited before it was ready (log: ${logDir})`);
      if (Date.now() > deadline) throw new Error(`${name} not ready in time (log: ${logDir})`);
      await sleep(250);
    }
    const group = groups[name];
    if (!group || !joined) return;
    // Ready is not joined: the load should start once every group has its partitions.
    const admin = kafka.admin();
    await admin.connect();
    try {
      for (;;) {
        const { groups: described } = await admin.describeGroups([group]);
        const g = described[0];
        if (g?.state === 'Stable' && g.members.length > 0) break;
        if (Date.now() > deadline) throw new Error(`${name}: group ${group} never became stable`);
        await sleep(250);
      }
    } finally {
      await admin.disconnect();
    }
  };

  const kill = async (name: AppName, signal: NodeJS.Signals = 'SIGKILL') => {
    const child = children.get(name);
    const app = apps.get(name);
    if (!child || !app?.alive) return;
    expectedExit.add(name);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  };

  for (const name of names) if (CONSUMERS[name]) groups[name] = `${runId}-${name}`;
  await commitNewestOffsets(kafka, Object.values(groups), options.replicationFactor);
  const started = await Promise.all(names.map(async (n) => [n, await freePort()] as const));
  for (const [name, port] of started) await spawnApp(name, port);
  try {
    await Promise.all(names.map((n) => waitReady(n)));
  } catch (err) {
    for (const name of names) await kill(name);
    throw err;
  }

  return {
    runId,
    apiKey,
    intakeUrl: url('intake-api', ''),
    groups,
    analyticsSchema,
    mailboxName,
    apps,
    url,
    ready,
    kill,
    restart: async (name) => {
      await kill(name);
      await spawnApp(name, apps.get(name)!.port);
      // The group still lists the killed member until its session times out; the
      // restarted one joins then. Only the process's own readiness is awaited here.
      await waitReady(name, false);
    },
    stop: async () => {
      await Promise.all(
        [...apps.keys()].map(async (name) => {
          const timer = setTimeout(() => children.get(name)?.kill('SIGKILL'), 20_000);
          await kill(name, 'SIGTERM');
          clearTimeout(timer);
        }),
      );
      const admin = createPool({ url: databaseUrl, max: 1 });
      try {
        if (names.includes('analytics'))
          await admin.query(`DROP SCHEMA IF EXISTS ${analyticsSchema} CASCADE`);
        await admin.query('DELETE FROM imap_checkpoints WHERE mailbox = $1', [mailboxName]);
      } finally {
        await admin.end();
      }
    },
  };
}
