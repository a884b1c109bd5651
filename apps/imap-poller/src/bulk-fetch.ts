import type { Logger } from '@mailroom/observability';
import { BulkConnection, ImapCommandError, type ImapEndpoint } from './bulk-connection.js';
import { fetchDataOf, ImapProtocolError, type ImapResponse } from './imap-response-reader.js';
import { uidSet } from './ingest-batch.js';

/** A message of the bulk FETCH: its bytes, or `late` (NIL, or over the cap: streamed on its own). */
export interface FetchedSource {
  uid: number;
  source: Buffer | null;
  late?: boolean;
}

export interface BulkFetcher {
  /** Opens the connection if it is not open: login and EXAMINE, UIDVALIDITY checked. */
  ready(maxBytes: number): Promise<void>;
  /**
   * UID FETCH of the first `maxBytes` of each message, yielded as they arrive. A UID
   * the server did not return (expunged) is not yielded. Throws on NO, BAD, BYE, a
   * broken connection or a UIDVALIDITY other than the checkpoint's.
   */
  fetch(uids: readonly number[], maxBytes: number): AsyncGenerator<FetchedSource>;
  /** Logs out (or drops the connection in the middle of a FETCH). */
  close(): Promise<void>;
}

export interface BulkFetcherOptions {
  endpoint: ImapEndpoint;
  folder: string;
  /** The checkpoint's UIDVALIDITY: a folder renumbered since is not read. */
  uidValidity: string;
  logger: Logger;
}

// Fetched messages not yet taken by the window: the socket is paused above this.
const HIGH_WATER = 256;

/**
 * The window's bulk FETCH on a connection of its own (imapflow keeps the mailbox's
 * connection for SEARCH, IDLE, flags and moves). Opened on first use, reopened after
 * a failure; one connection per sync pass.
 */
export function createBulkFetcher(o: BulkFetcherOptions): BulkFetcher {
  let conn: BulkConnection | null = null;
  let opening: Promise<BulkConnection> | null = null;

  const connect = async (maxBytes: number): Promise<BulkConnection> => {
    if (conn && !conn.broken) return conn;
    const c = new BulkConnection(o.endpoint, maxBytes);
    conn = c;
    try {
      await c.open(o.folder);
    } catch (err) {
      await c.close();
      throw err;
    }
    if (c.uidValidity !== o.uidValidity) {
      await c.close();
      throw new ImapCommandError(
        'UIDVALIDITY_CHANGED',
        `UIDVALIDITY of ${o.folder} is ${c.uidValidity}, the checkpoint's ${o.uidValidity}`,
      );
    }
    o.logger.debug({ folder: o.folder }, 'bulk fetch connection open');
    return c;
  };

  const ready = async (maxBytes: number): Promise<BulkConnection> => {
    opening ??= connect(maxBytes);
    try {
      return await opening;
    } finally {
      opening = null;
    }
  };

  async function* fetch(uids: readonly number[], maxBytes: number): AsyncGenerator<FetchedSource> {
    if (uids.length === 0) return;
    const c = await ready(maxBytes);
    const wanted = new Set(uids);
    const queue: FetchedSource[] = [];
    let head = 0;
    let wake = (): void => undefined;
    let result: { err: Error } | { ok: true } | null = null;
    const onUntagged = (r: ImapResponse) => {
      // EXISTS, EXPUNGE, FLAGS, RECENT…: nothing to do; we go by UID.
      const d = fetchDataOf(r);
      // A FETCH without BODY[] is a flag update the server chose to send.
      if (!d || d.body === undefined) return;
      if (d.uid === null) throw new ImapProtocolError(`FETCH of #${d.seq} with a body but no UID`);
      if (!wanted.delete(d.uid)) return; // not asked for, or already had
      if (Buffer.isBuffer(d.body)) queue.push({ uid: d.uid, source: d.body });
      else queue.push({ uid: d.uid, source: null, late: true });
      if (queue.length - head >= HIGH_WATER) c.pause();
      wake();
    };
    const done = c
      .command(`UID FETCH ${uidSet(uids)} (UID BODY.PEEK[]<0.${maxBytes}>)`, (r) => {
        try {
          onUntagged(r);
        } catch (err) {
          result ??= { err: err as Error };
          void c.close();
        }
      })
      .then(
        () => (result ??= { ok: true }),
        (err: Error) => (result ??= { err }),
      )
      .finally(() => wake());
    try {
      for (;;) {
        while (head < queue.length) {
          const f = queue[head]!;
          queue[head++] = undefined as unknown as FetchedSource; // let it go once taken
          if (head === queue.length) {
            queue.length = 0;
            head = 0;
          }
          if (queue.length - head < HIGH_WATER / 2) c.resume();
          yield f;
        }
        if (result) break;
        await new Promise<void>((resolve) => (wake = resolve));
      }
      await done;
      const r = result as { err: Error } | { ok: true } | null;
      if (r && 'err' in r) throw r.err;
    } finally {
      c.resume();
      // Left in the middle (shutdown, a failed batch): the rest of the FETCH would
      // still come, so the connection goes.
      if (!result) {
        await c.close();
        conn = null;
      }
    }
  }

  return {
    ready: async (maxBytes) => void (await ready(maxBytes)),
    fetch,
    close: async () => {
      const c = conn;
      conn = null;
      await c?.close();
    },
  };
}
