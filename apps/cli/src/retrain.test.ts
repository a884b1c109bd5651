import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel } from '@mailroom/classifier';
import { createPool } from '@mailroom/db';
import { stackEnv } from '../../../test/support/env.js';
import { sharedDataDir } from '../../../test/support/shared-data.js';
import { runMailroomCli } from './run-cli.js';

// Retraining from the ticket history of the test database: reroutes become examples.

const pool = createPool({ url: stackEnv('DATABASE_URL'), max: 2 });
const marker = `zq${randomUUID().slice(0, 6)}`;
const inserted: string[] = [];
afterAll(async () => {
  // Other suites count tickets by department: leave the shared test database as found.
  await pool.query('DELETE FROM routing_history WHERE ticket_id = ANY($1)', [inserted]);
  await pool.query('DELETE FROM tickets WHERE id = ANY($1)', [inserted]);
  await pool.end();
});

async function reroutedTicket(title: string, description: string, to: string) {
  const id = randomUUID();
  inserted.push(id);
  await pool.query(
    `INSERT INTO tickets (id, source_key, title, description, requester_email, channel, department)
     VALUES ($1, $2, $3, $4, 'alice@example.test', 'api', $5)`,
    [id, `api:${id}`, title, description, to],
  );
  await pool.query(
    `INSERT INTO routing_history (event_id, ticket_id, department, previous_department, kind, rule, decided_by, at)
     VALUES ($1, $2, 'General', NULL, 'routed', 'model', 'categorizer', now() - interval '1 hour'),
            ($3, $2, $4, 'General', 'rerouted', 'manual', 'agent@example.test', now())`,
    [randomUUID(), id, randomUUID(), to],
  );
}

describe('mailroom classify retrain', () => {
  it('learns a department from manual reroutes plus the training CSV', async () => {
    // Facilities has no example in the ticket dataset: only the corrections teach it.
    for (let i = 0; i < 6; i++) {
      await reroutedTicket(
        `${marker} badge reader at door ${i}`,
        `The ${marker} badge reader of the north entrance is broken again, door ${i} stays locked.`,
        'Facilities',
      );
    }
    const out = join(await mkdtemp(join(tmpdir(), 'retrain-')), 'departments.model.gz');
    const stdout: string[] = [];
    const stderr: string[] = [];
    const code = await runMailroomCli(
      ['classify', 'retrain', '--database-url', stackEnv('DATABASE_URL'), '--out', out],
      {
        stdout: (s) => void stdout.push(s),
        stderr: (s) => void stderr.push(s),
        stdin: () => Promise.resolve(''),
        readFile: (p) => readFile(p),
        env: { MAILROOM_SHARED_DATA: sharedDataDir() },
      },
    );
    expect(stderr.join('')).toBe('');
    expect(code).toBe(0);
    const report = JSON.parse(stdout.join('')) as {
      corrections: number;
      labels: string[];
      baseExamples: number;
    };
    expect(report.corrections).toBeGreaterThanOrEqual(6);
    expect(report.baseExamples).toBeGreaterThan(2000);
    expect(report.labels).toEqual(expect.arrayContaining(['Facilities', 'Finance', 'IT Support']));

    const model = await loadModel(out);
    expect(model.predict(`${marker} badge reader broken, the door stays locked`).label).toBe(
      'Facilities',
    );
    expect(model.predict('I was charged twice on my invoice, please refund').label).toBe('Finance');
  });

  it('exits 2 without --out', async () => {
    const stderr: string[] = [];
    const code = await runMailroomCli(['classify', 'retrain'], {
      stdout: () => undefined,
      stderr: (s) => void stderr.push(s),
      stdin: () => Promise.resolve(''),
      readFile: (p) => readFile(p),
      env: {},
    });
    expect(code).toBe(2);
    expect(stderr.join('')).toMatch(/--out/);
  });
});
