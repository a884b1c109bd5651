// docker-compose.yml validated by docker-compose 1.29 (deploy/validate.sh installs it when
// missing) and checked against the code: every app built from the one Dockerfile with a
// healthcheck, a restart policy and the secrets' env file; ports apart from the local
// stack's; Prometheus targets that exist. And the Dockerfile itself.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { APP_PORTS } from '@mailroom/config';
import { APPS, ASSUMED_VARIABLES, ROOT, appVariables, allAppVariables } from './manifests.js';

const run = promisify(execFile);

interface Service {
  build?: { context: string; args?: Record<string, string> };
  image?: string;
  command?: string[];
  restart?: string;
  env_file?: string[];
  environment?: Record<string, string | null>;
  healthcheck?: { test: string[]; interval?: string };
  depends_on?: Record<string, { condition: string }>;
  ports?: string[];
  volumes?: (string | { source: string; target: string })[];
}
interface ComposeFile {
  services: Record<string, Service>;
}

const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
// The file as written (anchors merged): `config` inlines env_file into environment.
const raw = parse(read('docker-compose.yml'), { merge: true }) as ComposeFile;
const envFileKeys = read('deploy/compose/mailroom.env.example')
  .split('\n')
  .flatMap((line) => /^([A-Z][A-Z0-9_]*)=/.exec(line)?.[1] ?? []);

let resolved: ComposeFile;

beforeAll(async () => {
  // Validation (exit code) and the resolved file; secrets come from the example env file.
  const { stdout } = await run('bash', [join(ROOT, 'deploy/validate.sh'), '--print'], {
    cwd: ROOT,
    env: { ...process.env, MAILROOM_ENV_FILE: 'deploy/compose/mailroom.env.example' },
    timeout: 100_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  resolved = parse(stdout) as ComposeFile;
}, 110_000);

describe('docker-compose.yml', () => {
  it('is valid for docker-compose 1.29 and has the infrastructure and every app', () => {
    expect(Object.keys(resolved.services).sort()).toEqual(
      [...APPS, 'kafka', 'postgres', 'migrate', 'greenmail', 'prometheus', 'grafana'].sort(),
    );
    expect(resolved.services.kafka!.image).toBe('apache/kafka:3.9.1');
    expect(resolved.services.postgres!.image).toMatch(/^postgres:15/);
  });

  it('rejects an invalid file (the validator is live)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'compose-'));
    try {
      const file = join(dir, 'docker-compose.yml');
      await writeFile(file, 'services:\n  a:\n    image: x\n    healthcheck: { tset: [] }\n');
      await expect(run('docker-compose', ['-f', file, 'config', '-q'])).rejects.toThrow(/tset/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.each(APPS)('%s: built from the Dockerfile, healthcheck, restart policy, env file', (app) => {
    const svc = resolved.services[app]!;
    expect(svc.build?.args).toEqual({ APP: app });
    expect(svc.image).toBe(`mailroom/${app}:local`);
    expect(svc.restart).toBe('unless-stopped');
    expect(svc.healthcheck?.test.join(' ')).toContain('/health');
    expect(raw.services[app]!.env_file).toEqual([
      '${MAILROOM_ENV_FILE:-deploy/compose/mailroom.env}',
    ]);
    // The env file's secrets arrived (the example's placeholders).
    expect(svc.environment?.REPLY_TOKEN_SECRET).toMatch(/^CHANGE-ME/);
    expect(svc.environment?.DATABASE_URL).toMatch(/@postgres:5432\/mailroom$/);
    // The port its healthcheck and Prometheus use is the one the app listens on.
    const portVar = app === 'intake-api' ? 'PORT' : 'METRICS_PORT';
    expect(svc.environment?.[portVar]).toBe(String(APP_PORTS[app]));
    expect(svc.environment?.KAFKA_BROKERS).toBe('kafka:9092');
    expect(svc.depends_on).toMatchObject({
      kafka: { condition: 'service_healthy' },
      migrate: { condition: 'service_completed_successfully' },
    });
  });

  it('sets only variables the apps declare (besides the env file of Postgres and Grafana)', () => {
    const declared = allAppVariables();
    for (const app of APPS) {
      const own = appVariables(app);
      const names = Object.keys(raw.services[app]!.environment ?? {});
      expect(
        names.filter((n) => !own.has(n) && !ASSUMED_VARIABLES.has(n) && n !== 'NODE_ENV'),
        `${app} sets variables its config does not declare`,
      ).toEqual([]);
    }
    const infra = (k: string) => k.startsWith('GF_') || k === 'POSTGRES_PASSWORD';
    expect(envFileKeys.filter((k) => !infra(k) && !declared.has(k))).toEqual([]);
    expect(envFileKeys).toEqual(
      expect.arrayContaining(['REPLY_TOKEN_SECRET', 'ANTHROPIC_API_KEY', 'BOOTSTRAP_API_KEYS']),
    );
  });

  it('migrations run once with the app image before the apps start', () => {
    const migrate = resolved.services.migrate!;
    expect(migrate.command).toEqual(['npx', 'tsx', 'libs/db/src/migrate-cli.ts', 'up']);
    expect(migrate.image).toBe(resolved.services['ticket-store']!.image);
    expect(migrate.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    expect(migrate.restart).toBe('no');
  });

  it('publishes ports on 127.0.0.1 only, none of them a port of the local stack', () => {
    const localPorts = new Set(
      [...read('deploy/local/stack.env').matchAll(/:=([0-9 ]+)\}/g)].flatMap((m) =>
        m[1]!.trim().split(/\s+/).map(Number),
      ),
    );
    for (const p of Object.values(APP_PORTS)) localPorts.add(p);
    expect(localPorts.has(19092)).toBe(true);
    // As written ("127.0.0.1:${VAR:-port}:target"), so the defaults are what is checked.
    const published = Object.entries(raw.services).flatMap(([name, svc]) =>
      (svc.ports ?? []).map((spec) => ({ name, spec })),
    );
    expect(published.length).toBeGreaterThan(5);
    for (const { name, spec } of published) {
      const [host, hostPort] = spec.split(':');
      expect(host, `${name} ${spec}`).toBe('127.0.0.1');
      const port = Number(/(\d+)\}?$/.exec(hostPort!)?.[1]);
      expect(localPorts.has(port), `${name} publishes ${port}, a local stack port`).toBe(false);
    }
  });

  it('Prometheus scrapes every app by its service name and port, and loads the rules', () => {
    const config = parse(read('deploy/prometheus/prometheus.yml')) as {
      rule_files: string[];
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    const targets = config.scrape_configs
      .find((s) => s.job_name === 'mailroom')!
      .static_configs.flatMap((c) => c.targets);
    expect(targets.sort()).toEqual(APPS.map((a) => `${a}:${APP_PORTS[a]}`).sort());
    const volumes = (raw.services.prometheus!.volumes ?? []).map(String);
    expect(volumes).toContain(
      './deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro',
    );
    expect(volumes).toContain('./deploy/prometheus/rules:/etc/prometheus/rules:ro');
    expect(config.rule_files).toEqual(['/etc/prometheus/rules/*.yml']);
    const grafana = (raw.services.grafana!.volumes ?? []).map(String);
    expect(grafana).toContain('./grafana/provisioning:/etc/grafana/provisioning:ro');
    expect(grafana).toContain('./grafana/dashboards:/var/lib/grafana/dashboards:ro');
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((l) => l.trim() && !l.trim().startsWith('#'));
  const pkg = JSON.parse(read('package.json')) as { dependencies?: Record<string, string> };

  it('builds every app from node:20-bookworm-slim with production dependencies and tsx', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:20-bookworm-slim$/m);
    expect(instructions.filter((l) => l.startsWith('FROM ')).length).toBeGreaterThanOrEqual(3);
    expect(dockerfile).toContain('npm ci --omit=dev');
    // tsx runs the sources: it must survive --omit=dev.
    expect(pkg.dependencies?.tsx).toBeTruthy();
    expect(instructions).toContain('ARG APP');
    expect(dockerfile).toContain('exec node --import tsx \\"apps/$APP/src/main.ts\\"');
  });

  it('runs as a numeric non-root user with a HEALTHCHECK on /health', () => {
    const user = instructions.filter((l) => l.startsWith('USER ')).at(-1);
    expect(user).toMatch(/^USER [1-9][0-9]*:[1-9][0-9]*$/);
    expect(instructions.some((l) => l.startsWith('HEALTHCHECK ') && l.includes('/health'))).toBe(
      true,
    );
  });

  it('.dockerignore keeps out local data, node_modules and test output, not the models', () => {
    const ignore = read('.dockerignore')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'));
    for (const p of ['.data', '**/node_modules', '**/test-output', '**/coverage', '.git']) {
      expect(ignore).toContain(p);
    }
    expect(ignore.some((l) => l.includes('models'))).toBe(false);
    expect(ignore).toContain('**/*.env');
  });
});
