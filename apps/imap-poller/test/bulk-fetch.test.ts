// The bulk FETCH reader of our own against the real servers of the stack: what it
// yields is byte for byte what imapflow fetches; partial fetch caps, expunged and
// unknown UIDs, a UIDVALIDITY other than the checkpoint's, bad credentials, a server
// that drops the connection, and leaving a FETCH half read.
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { testLogger } from '../../../test/support/env.js';
import { createBulkFetcher, type FetchedSource } from '../src/bulk-fetch.js';
import { BulkConnection } from '../src/bulk-connection.js';
import { BULK_FETCH_MIN, fetchSources } from '../src/ingest-window.js';
import { pollerMetrics } from '../src/metrics.js';
import { Registry } from 'prom-client';
import {
  appendAll,
  dovecotMailbox,
  dropMailbox,
  greenmailMailbox,
  smallMessage,
  withImap,
  type TestMailbox,
} from './support.js';

const logger = testLogger();
const boxes: TestMailbox[] = [];
afterAll(async () => {
  for (const b of boxes) await dropMailbox(b).catch(() => undefined);
});

const endpoint = (box: TestMailbox) => ({
  host: box.host,
  port: box.port,
  secure: false,
  user: box.user,
  password: box.password,
});

async function uidValidityOf(box: TestMailbox): Promise<string> {
  return withImap(box, async (c) => String((await c.mailboxOpen(box.folder)).uidValidity));
}

/** imapflow's answer to the same FETCH: the reference. */
async function imapflowSources(box: TestMailbox, maxLength: number) {
  return withImap(box, async (c) => {
    await c.mailboxOpen(box.folder);
    const out = new Map<number, Buffer>();
    const query = { uid: true, source: { start: 0, maxLength } };
    for await (const m of c.fetch('1:*', query, { uid: true }))
      if (m.source) out.set(m.uid, m.source);
    return out;
  });
}

async function collect(it: AsyncIterable<FetchedSource>): Promise<FetchedSource[]> {
  const out: FetchedSource[] = [];
  for await (const f of it) out.push(f);
  return out;
}

/** A new mailbox of the test (dropped after the file) holding `mails`. */
async function seeded(mailbox: () => Promise<TestMailbox>, mails: Buffer[]) {
  const box = await mailbox();
  boxes.push(box);
  await appendAll(box, mails);
  return { box, uidValidity: await uidValidityOf(box) };
}

async function uidsOf(box: TestMailbox): Promise<number[]> {
  return withImap(box, async (c) => {
    await c.mailboxOpen(box.folder);
    return ((await c.search({ all: true }, { uid: true })) || []).sort((a, b) => a - b);
  });
}

const fetcher = (box: TestMailbox, uidValidity: string, ep = endpoint(box)) =>
  createBulkFetcher({ endpoint: ep, folder: box.folder, uidValidity, logger });

/** Mail whose bytes stress the reader: `{n}` at line ends, CRLF runs, 8-bit bytes, sizes. */
function trickyMessages(tag: string): Buffer[] {
  const big = randomBytes(300_000).toString('base64').replace(/.{76}/g, '$&\r\n');
  return [
    smallMessage(0, tag),
    Buffer.from(
      `Subject: ${tag} literal look-alike {12}\r\n\r\nA line ending in {5}\r\n)\r\n* 3 FETCH (UID 9)\r\nB1 OK done\r\n`,
    ),
    Buffer.from(
      `Subject: ${tag} 8bit\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nGrüße, «quoted» ☃\r\n`,
    ),
    Buffer.from(`Subject: ${tag} big\r\n\r\n${big}\r\n`),
    Buffer.from(`Subject: ${tag} empty body\r\n\r\n`),
  ];
}

describe.each([
  ['GreenMail', () => greenmailMailbox('bulk')],
  ['Dovecot', () => dovecotMailbox()],
])('bulk FETCH reader on %s', (_name, mailbox) => {
  it('yields what imapflow fetches, byte for byte, with and without a cap', async () => {
    const tag = `bulk${Date.now()}`;
    const mails = [
      ...trickyMessages(tag),
      ...Array.from({ length: 600 }, (_, i) => smallMessage(i + 1, tag)),
    ];
    const { box, uidValidity } = await seeded(mailbox, mails);
    for (const cap of [2 * 1024 * 1024, 1000]) {
      const expected = await imapflowSources(box, cap);
      expect(expected.size).toBe(mails.length);
      const f = fetcher(box, uidValidity);
      try {
        const got = await collect(f.fetch([...expected.keys()], cap));
        expect(got.map((g) => g.uid)).toEqual([...expected.keys()]);
        for (const g of got) expect(g.source?.equals(expected.get(g.uid)!)).toBe(true);
        if (cap === 1000) expect(got.some((g) => g.source!.length === 1000)).toBe(true);
        // The same connection serves a second FETCH of the pass.
        const again = await collect(f.fetch([[...expected.keys()][3]!], cap));
        expect(again).toHaveLength(1);
      } finally {
        await f.close();
      }
    }
  });

  it('skips UIDs that are gone, and stops at a UIDVALIDITY other than the checkpoint', async () => {
    const tag = `bulkgone${Date.now()}`;
    const { box, uidValidity } = await seeded(
      mailbox,
      [0, 1, 2, 3].map((i) => smallMessage(i, tag)),
    );
    const uids = await uidsOf(box);
    await withImap(box, async (c) => {
      await c.mailboxOpen(box.folder);
      await c.messageDelete(String(uids[1]), { uid: true });
    });
    const f = fetcher(box, uidValidity);
    try {
      const got = await collect(f.fetch([...uids, uids[3]! + 100], 1 << 20));
      expect(got.map((g) => g.uid)).toEqual([uids[0], uids[2], uids[3]]);
    } finally {
      await f.close();
    }
    const stale = fetcher(box, String(Number(uidValidity) + 1));
    await expect(collect(stale.fetch(uids, 1 << 20))).rejects.toMatchObject({
      code: 'UIDVALIDITY_CHANGED',
      retriable: true,
    });
    await stale.close();
  });

  it('fails on bad credentials and on a folder that does not exist, with a code', async () => {
    const box = await mailbox();
    boxes.push(box);
    const wrong = new BulkConnection({ ...endpoint(box), password: 'wrong' }, 1 << 20);
    await expect(wrong.open(box.folder)).rejects.toMatchObject({ code: 'IMAP_NO' });
    await wrong.close();
    const missing = new BulkConnection(endpoint(box), 1 << 20);
    await expect(missing.open(`${box.folder}-missing`)).rejects.toMatchObject({ code: 'IMAP_NO' });
    await missing.close();
  });

  it('a FETCH left half read drops its connection; the next FETCH opens another', async () => {
    const tag = `bulkhalf${Date.now()}`;
    const { box, uidValidity } = await seeded(
      mailbox,
      Array.from({ length: 1500 }, (_, i) => smallMessage(i, tag)),
    );
    const uids = await uidsOf(box);
    const f = fetcher(box, uidValidity);
    try {
      let n = 0;
      for await (const m of f.fetch(uids, 1 << 20)) {
        expect(m.uid).toBe(uids[n]);
        // Held while the reader's queue fills: the socket is paused, nothing is lost.
        if (++n === 10) await new Promise((r) => setTimeout(r, 300));
        if (n === 400) break;
      }
      const all = await collect(f.fetch(uids, 1 << 20));
      expect(all.map((m) => m.uid)).toEqual(uids);
    } finally {
      await f.close();
    }
  });

  it('a bulk connection that cannot log in leaves the window to imapflow; a new UIDVALIDITY fails it', async () => {
    const tag = `bulkfallback${Date.now()}`;
    const { box, uidValidity } = await seeded(
      mailbox,
      Array.from({ length: BULK_FETCH_MIN }, (_, i) => smallMessage(i, tag)),
    );
    const expected = await imapflowSources(box, 1 << 21);
    const registry = new Registry();
    const deps = { mailbox: box.user, metrics: pollerMetrics(registry), logger };
    await withImap(box, async (client) => {
      await client.mailboxOpen(box.folder);
      const refused = fetcher(box, uidValidity, { ...endpoint(box), password: 'wrong' });
      const got = await collect(fetchSources(client, [...expected.keys()], refused, deps));
      expect(got.map((g) => g.uid)).toEqual([...expected.keys()]);
      for (const g of got) expect(g.source?.equals(expected.get(g.uid)!)).toBe(true);
      expect(await registry.getSingleMetricAsString('mailroom_imap_errors_total')).toContain(
        'code="BULK_FETCH_UNAVAILABLE"',
      );
      const renumbered = fetcher(box, `${uidValidity}0`);
      await expect(
        collect(fetchSources(client, [...expected.keys()], renumbered, deps)),
      ).rejects.toMatchObject({ code: 'UIDVALIDITY_CHANGED' });
      await Promise.all([refused.close(), renumbered.close()]);
    });
  });
});
