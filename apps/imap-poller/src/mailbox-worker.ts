import { ImapFlow } from 'imapflow';
import { errorCode } from '@mailroom/kafka';
import type { Logger } from '@mailroom/observability';
import { backoffDelay, sleep } from './backoff.js';
import { createBulkFetcher } from './bulk-fetch.js';
import type { CheckpointStore } from './checkpoint-store.js';
import { uidSet, type BatchDeps } from './ingest-batch.js';
import { ingestWindow } from './ingest-window.js';
import type { MailboxSpec } from './mailboxes.js';

export interface MailboxState {
  mailbox: string;
  connected: boolean;
  idling: boolean;
  lastFetchAt: string | null;
  uidValidity: string | null;
  lastUid: number | null;
  error: { code: string; message: string; at: string } | null;
}

export interface MailboxWorkerOptions {
  spec: MailboxSpec;
  checkpoints: CheckpointStore;
  batch: Omit<BatchDeps, 'mailbox' | 'logger'>;
  logger: Logger;
  batchSize: number;
  /** UIDs per FETCH command; \Seen and the move happen once per window. */
  fetchWindow: number;
  /** Who reads the bulk FETCH of small mail (IMAP_FETCH_READER). */
  fetchReader: 'own' | 'imapflow';
  pollIntervalMs: number;
  reconnectMaxMs: number;
  markSeen: boolean;
}

export interface MailboxWorker {
  state(): MailboxState;
  /** Lets the batch in hand finish (and its checkpoint land), then logs out. */
  stop(): Promise<void>;
}

// Servers drop an IDLE after ~30 min (RFC 2177); re-issue it well before that.
const MAX_IDLE_MS = 5 * 60_000;

export function startMailboxWorker(o: MailboxWorkerOptions): MailboxWorker {
  const { spec, metrics } = { spec: o.spec, metrics: o.batch.metrics };
  const labels = { mailbox: spec.name };
  const log = o.logger.child({ mailbox: spec.name });
  const abort = new AbortController();
  const state: MailboxState = {
    mailbox: spec.name,
    connected: false,
    idling: false,
    lastFetchAt: null,
    uidValidity: null,
    lastUid: null,
    error: null,
  };
  const setConnected = (v: boolean) => {
    state.connected = v;
    metrics.connected.set(labels, v ? 1 : 0);
  };
  const setIdling = (v: boolean) => {
    state.idling = v;
    metrics.idling.set(labels, v ? 1 : 0);
  };
  setConnected(false);
  setIdling(false);

  /**
   * One pass: everything above the checkpoint, window by window; within a window,
   * batches are acked by Kafka and checkpointed in order.
   */
  async function sync(client: ImapFlow): Promise<void> {
    const box = client.mailbox;
    if (!box) throw Object.assign(new Error('no mailbox selected'), { code: 'NOT_SELECTED' });
    const uidValidity = String(box.uidValidity);
    let cp = await o.checkpoints.load(spec.name);
    if (!cp || cp.uidValidity !== uidValidity) {
      if (cp) {
        // The server renumbered the folder: re-scan from UID 1. Producing again is safe:
        // event ids derive from mailbox + Message-ID and ticket-store dedupes on them.
        log.warn({ from: cp.uidValidity, to: uidValidity }, 'UIDVALIDITY changed: re-scanning');
        metrics.uidValidityChanges.inc(labels);
      }
      cp = { uidValidity, lastUid: 0 };
      await o.checkpoints.save(spec.name, cp);
    }
    state.uidValidity = uidValidity;
    state.lastUid = cp.lastUid;
    const from = cp.lastUid;
    // SEARCH, not FETCH, to list: servers answer it from their index, without a
    // response per message. `n:*` always includes the highest UID, even below n.
    const listed =
      box.exists > 0 ? await client.search({ uid: `${from + 1}:*` }, { uid: true }) : [];
    const todo = (listed || []).filter((uid) => uid > from).sort((a, b) => a - b);
    metrics.backlog.set(labels, todo.length);
    const deps = { ...o.batch, mailbox: spec.name, logger: log };
    // Opened at the first FETCH of the pass (if any), logged out at its end: no
    // second connection left idling beside the IDLE one.
    const bulk =
      o.fetchReader === 'own'
        ? createBulkFetcher({ endpoint: spec, folder: spec.folder, uidValidity, logger: log })
        : undefined;
    try {
      for (let i = 0; i < todo.length && !abort.signal.aborted; i += o.fetchWindow) {
        const window = todo.slice(i, i + o.fetchWindow);
        const done = await ingestWindow(client, window, uidValidity, deps, {
          batchSize: o.batchSize,
          signal: abort.signal,
          bulk,
          checkpoint: async (lastUid, doneInWindow) => {
            await o.checkpoints.save(spec.name, { uidValidity, lastUid });
            state.lastUid = lastUid;
            metrics.backlog.set(labels, todo.length - i - doneInWindow);
          },
        });
        await acknowledge(client, done);
      }
    } finally {
      await bulk?.close();
    }
    state.lastFetchAt = new Date().toISOString();
    metrics.lastFetch.set(labels, Date.now() / 1000);
  }

  /** \Seen / move happen after Kafka acked and the checkpoint moved: cosmetic, never state. */
  async function acknowledge(client: ImapFlow, uids: number[]): Promise<void> {
    if (uids.length === 0) return;
    try {
      // .SILENT: no untagged FETCH back per message.
      if (o.markSeen) {
        await client.messageFlagsAdd(uidSet(uids), ['\\Seen'], { uid: true, silent: true });
      }
      if (spec.processedFolder)
        await client.messageMove(uidSet(uids), spec.processedFolder, { uid: true });
    } catch (err) {
      metrics.errors.inc({ ...labels, code: 'ACKNOWLEDGE_FAILED' });
      log.warn({ err }, 'could not flag/move ingested messages (they stay ingested)');
    }
  }

  async function session(onConnected: () => void): Promise<void> {
    const client = new ImapFlow({
      host: spec.host,
      port: spec.port,
      secure: spec.secure,
      auth: spec.accessToken
        ? { user: spec.user, accessToken: spec.accessToken }
        : { user: spec.user, pass: spec.password ?? '' },
      logger: false,
      disableAutoIdle: true,
      maxIdleTime: MAX_IDLE_MS,
      missingIdleCommand: 'NOOP',
    });
    let dirty = true;
    let wake: () => void = () => undefined;
    // imapflow emits 'error' for socket faults; unhandled, it would kill the process.
    client.on('error', (err: Error) => log.warn({ err }, 'IMAP connection error'));
    client.on('exists', () => {
      dirty = true;
      wake();
    });
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    const onAbort = () => wake();
    abort.signal.addEventListener('abort', onAbort);
    try {
      await client.connect();
      await client.mailboxOpen(spec.folder);
      setConnected(true);
      state.error = null;
      onConnected();
      log.info({ folder: spec.folder }, 'IMAP mailbox open');
      while (!abort.signal.aborted && client.usable) {
        if (dirty) {
          dirty = false;
          await sync(client);
          continue; // mail that arrived during the sync is fetched before idling
        }
        const woken = new Promise<void>((resolve) => (wake = resolve));
        setIdling(true);
        // The next command (the sync's FETCH) ends the IDLE; so does the poll timer.
        client.idle().catch((err: unknown) => log.debug({ err }, 'IDLE ended with an error'));
        await Promise.race([woken, sleep(o.pollIntervalMs, abort.signal), closed]);
        setIdling(false);
        dirty = true; // poll fallback: a server that dropped IDLE still gets checked
      }
      if (!abort.signal.aborted)
        throw Object.assign(new Error('connection closed'), { code: 'CLOSED' });
    } finally {
      abort.signal.removeEventListener('abort', onAbort);
      setIdling(false);
      setConnected(false);
      if (client.usable) await client.logout().catch(() => client.close());
      else client.close();
    }
  }

  const running = (async () => {
    let attempt = 0;
    while (!abort.signal.aborted) {
      try {
        await session(() => (attempt = 0));
      } catch (err) {
        const code = errorCode(err);
        const message = err instanceof Error ? err.message : String(err);
        state.error = { code, message, at: new Date().toISOString() };
        metrics.errors.inc({ ...labels, code });
        log.warn({ err, attempt }, 'IMAP session failed; reconnecting');
      }
      if (abort.signal.aborted) break;
      metrics.reconnects.inc(labels);
      await sleep(backoffDelay(attempt++, { maxMs: o.reconnectMaxMs }), abort.signal);
    }
  })();

  return {
    state: () => ({ ...state }),
    stop: async () => {
      abort.abort();
      await running;
    },
  };
}
