import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { TicketCategorized } from '@mailroom/events';
import { describe, expect, it } from 'vitest';
import { createLocalClassify } from '../src/build-categorizer.js';
import { DEFAULT_TAXONOMY } from '../src/taxonomy.js';
import { startFakeAnthropic } from './fake-anthropic-server.js';

// intake-api's POST /api/classify preview: the same shape as a ticket.categorized payload.

describe('createLocalClassify', () => {
  it('previews with the local model in the ticket.categorized shape', async () => {
    const classify = await createLocalClassify();
    const out = await classify({
      title: 'Refund for a returned order',
      description: 'I sent the item back two weeks ago and still have no refund of my payment.',
    });
    expect(Value.Check(TicketCategorized, out)).toBe(true);
    expect(out).toMatchObject({ method: 'local', department: 'Finance', category: 'billing' });
  });

  it('follows TAXONOMY_FILE and can preview with Claude when given a key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'taxonomy-'));
    const file = join(dir, 'taxonomy.json');
    await writeFile(
      file,
      JSON.stringify({
        ...DEFAULT_TAXONOMY,
        version: 'money-only',
        localModel: { departments: { 'Billing and Payments': 'Finance' } },
      }),
    );
    const local = await createLocalClassify({ TAXONOMY_FILE: file });
    expect(
      await local({ title: 'Server outage', description: 'Everything is down.' }),
    ).toMatchObject({ department: 'General', needsReview: true });

    const fake = await startFakeAnthropic();
    try {
      const llm = await createLocalClassify({
        ANTHROPIC_API_KEY: fake.apiKey,
        ANTHROPIC_BASE_URL: fake.url,
      });
      const out = await llm({
        title: 'VPN broken',
        description: 'My laptop cannot reach the VPN.',
      });
      expect(out).toMatchObject({ method: 'llm', department: 'IT Support' });
      expect(fake.requests).toHaveLength(1);
    } finally {
      await fake.close();
    }
  });
});
