// The Prometheus config, alert rules and Grafana provisioning as the operators get them.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stackEnv } from '../../../test/support/env.js';

const root = stackEnv('MAILROOM_ROOT');
const prom = join(root, 'deploy/prometheus');
const promtool = (...args: string[]) =>
  execFileSync('promtool', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe('deploy/prometheus', () => {
  it('promtool check rules accepts every rule file', () => {
    const files = readdirSync(join(prom, 'rules')).filter((f) => f.endsWith('.yml'));
    expect(files.length).toBeGreaterThan(0);
    expect(promtool('check', 'rules', ...files.map((f) => join(prom, 'rules', f)))).toMatch(
      /SUCCESS/,
    );
  });

  it('the alerts fire on the situations they describe (promtool test rules)', () => {
    expect(promtool('test', 'rules', join(prom, 'tests/alerts-test.yml'))).toMatch(/SUCCESS/);
  });

  it('promtool check config accepts the docker-compose and the local configs', () => {
    expect(promtool('check', 'config', '--syntax-only', join(prom, 'prometheus.yml'))).toMatch(
      /SUCCESS/,
    );
    // Rendered as deploy/local/services/prometheus.sh does, with the real rule files.
    const dir = mkdtempSync(join(tmpdir(), 'prom-'));
    const local = readFileSync(join(prom, 'prometheus.local.yml'), 'utf8')
      .replaceAll('__SCRAPE_INTERVAL__', '5s')
      .replaceAll('__TARGETS_DIR__', dir)
      .replaceAll('__RULES_DIR__', join(prom, 'rules'))
      .replaceAll('__PROMETHEUS_PORT__', '19090');
    writeFileSync(join(dir, 'prometheus.yml'), local);
    expect(promtool('check', 'config', join(dir, 'prometheus.yml'))).toMatch(/SUCCESS: \d+ rules/);
  });
});

describe('grafana', () => {
  const provisioning = readFileSync(
    join(root, 'grafana/provisioning/datasources/datasources.yml'),
    'utf8',
  );
  const uids = [...provisioning.matchAll(/^\s+uid: (\S+)$/gm)].map((m) => m[1]);

  it('dashboards refer only to provisioned data sources and have unique panel ids', () => {
    expect(uids).toEqual(['prometheus', 'postgres']);
    const files = readdirSync(join(root, 'grafana/dashboards'));
    expect(files.sort()).toEqual([
      'ai-triage.json',
      'pipeline-health.json',
      'support-overview.json',
    ]);
    for (const f of files) {
      const d = JSON.parse(readFileSync(join(root, 'grafana/dashboards', f), 'utf8')) as {
        uid: string;
        panels: { id: number; datasource: { uid: string }; targets: unknown[] }[];
      };
      expect(d.uid).toMatch(/^mailroom-/);
      const ids = d.panels.map((p) => p.id);
      expect(new Set(ids).size).toBe(ids.length);
      for (const p of d.panels) {
        expect(uids).toContain(p.datasource.uid);
        expect(p.targets.length).toBeGreaterThan(0);
      }
    }
  });
});
