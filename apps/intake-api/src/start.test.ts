import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_TAXONOMY } from '@mailroom/categorizer';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '@mailroom/config';
import { Registry } from 'prom-client';
import { stackEnv, testLogger, unique } from '../../../test/support/env.js';
import { IntakeConfigSchema } from './config.js';
import { parseHealthUrls, start } from './start.js';

describe('start', () => {
  it('boots from config: topics, bootstrap keys, taxonomy; serves HTTP; stops cleanly', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'intake-'));
    const taxonomy = join(dir, 'taxonomy.json');
    await writeFile(
      taxonomy,
      JSON.stringify({
        ...DEFAULT_TAXONOMY,
        departments: [
          ...DEFAULT_TAXONOMY.departments,
          { name: 'Ops', description: 'operations' },
          { name: 'Old', description: 'gone', active: false },
        ],
      }),
    );
    const name = unique('boot');
    const key = `${name}-secret-key-0123456789`;
    const config = loadConfig(IntakeConfigSchema, {
      KAFKA_BROKERS: stackEnv('KAFKA_BROKERS'),
      DATABASE_URL: stackEnv('DATABASE_URL'),
      KAFKA_TOPIC_PARTITIONS: '3',
      PORT: '0',
      BOOTSTRAP_API_KEYS: `${name}:agent+intake:${key}`,
      TAXONOMY_FILE: taxonomy,
      PIPELINE_HEALTH_URLS: '',
    });
    const running = await start(config, { logger: testLogger(), registry: new Registry() });
    try {
      const base = `http://127.0.0.1:${running.port}`;
      const auth = { authorization: `Bearer ${key}` };
      const submitted = await fetch(`${base}/api/tickets`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({
          title: 't',
          description: 'd',
          requester: { email: 'a@example.test' },
        }),
      });
      expect(submitted.status).toBe(202);
      const departments = (await (
        await fetch(`${base}/api/departments`, { headers: auth })
      ).json()) as {
        items: { name: string }[];
      };
      expect(departments.items.map((d) => d.name)).toEqual([
        ...DEFAULT_TAXONOMY.departments.map((d) => d.name),
        'Ops',
      ]);
      expect((await fetch(`${base}/ready`)).status).toBe(200);
    } finally {
      await running.stop();
    }
    await expect(fetch(`http://127.0.0.1:${running.port}/health`)).rejects.toThrow();
  });

  it('fails fast on a bad config', () => {
    expect(() => loadConfig(IntakeConfigSchema, { RATE_LIMIT_PER_MINUTE: 'lots' })).toThrow(
      /RATE_LIMIT_PER_MINUTE/,
    );
  });

  it('parses PIPELINE_HEALTH_URLS and defaults to the app ports', () => {
    expect(parseHealthUrls('router=http://r:1/health, notifier=http://n:2/health')).toEqual([
      { name: 'router', url: 'http://r:1/health' },
      { name: 'notifier', url: 'http://n:2/health' },
    ]);
    const defaults = parseHealthUrls(loadConfig(IntakeConfigSchema, {}).PIPELINE_HEALTH_URLS);
    expect(defaults).toContainEqual({ name: 'router', url: 'http://127.0.0.1:19104/health' });
    expect(defaults.map((d) => d.name)).not.toContain('intake-api');
  });
});
