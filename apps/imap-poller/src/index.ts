export { start, type ImapPoller, type StartOptions } from './start.js';
export { ImapPollerConfig } from './config.js';
export { mailboxesFromConfig, MailboxSpec, MailboxConfigError } from './mailboxes.js';
export { createPgBlobStore, sha256Of, type BlobStore, type BlobRef } from './blob-store.js';
export {
  createPgCheckpointStore,
  type Checkpoint,
  type CheckpointStore,
} from './checkpoint-store.js';
export { backoffDelay } from './backoff.js';
export type { MailboxState } from './mailbox-worker.js';
