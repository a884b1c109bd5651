import { Type, type Static } from '@mailroom/config';
import { Value } from '@sinclair/typebox/value';
import type { ImapPollerConfig } from './config.js';

/** One mailbox to ingest; IMAP_MAILBOXES holds a JSON list of these. */
export const MailboxSpec = Type.Object(
  {
    /**
     * Stable name: the checkpoint key and the `mailbox` of every record (ticket-store
     * dedupes on mailbox + Message-ID), so renaming it re-ingests the folder.
     */
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 320 })),
    host: Type.String({ minLength: 1 }),
    port: Type.Integer({ minimum: 1, maximum: 65535 }),
    secure: Type.Boolean({ default: false }),
    user: Type.String({ minLength: 1 }),
    password: Type.Optional(Type.String()),
    accessToken: Type.Optional(Type.String({ minLength: 1 })),
    folder: Type.String({ minLength: 1, default: 'INBOX' }),
    processedFolder: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);
export type MailboxSpec = Static<typeof MailboxSpec> & { name: string };

/** A bad IMAP_MAILBOXES stops the start with the reason, like any config error. */
export class MailboxConfigError extends Error {
  readonly code = 'IMAP_MAILBOXES_INVALID';
  readonly retriable = false;
  constructor(message: string) {
    super(`IMAP_MAILBOXES: ${message}`);
    this.name = 'MailboxConfigError';
  }
}

const defaultName = (m: { user: string; folder: string }) =>
  m.folder.toUpperCase() === 'INBOX' ? m.user.toLowerCase() : `${m.user.toLowerCase()}/${m.folder}`;

export function mailboxesFromConfig(config: ImapPollerConfig): MailboxSpec[] {
  if (!config.IMAP_MAILBOXES) {
    const m = {
      host: config.IMAP_HOST,
      port: config.IMAP_PORT,
      secure: config.IMAP_SECURE,
      user: config.IMAP_USER,
      folder: config.IMAP_FOLDER,
      // The local GreenMail's password is the user name (README, "mail users").
      ...(config.IMAP_ACCESS_TOKEN
        ? { accessToken: config.IMAP_ACCESS_TOKEN }
        : { password: config.IMAP_PASSWORD ?? config.IMAP_USER.split('@')[0] ?? '' }),
      ...(config.IMAP_PROCESSED_FOLDER ? { processedFolder: config.IMAP_PROCESSED_FOLDER } : {}),
    };
    return [{ ...m, name: defaultName(m) }];
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(config.IMAP_MAILBOXES);
  } catch (err) {
    throw new MailboxConfigError(`not JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(parsed) || parsed.length === 0)
    throw new MailboxConfigError('expected a non-empty JSON list');
  const out = parsed.map((raw, i) => {
    const value = Value.Convert(MailboxSpec, Value.Default(MailboxSpec, raw));
    if (!Value.Check(MailboxSpec, value)) {
      const why = [...Value.Errors(MailboxSpec, value)]
        .map((e) => `${e.path || '(root)'}: ${e.message}`)
        .join('; ');
      throw new MailboxConfigError(`entry ${i}: ${why}`);
    }
    if (value.password === undefined && value.accessToken === undefined)
      throw new MailboxConfigError(`entry ${i}: password or accessToken is required`);
    return { ...value, name: value.name ?? defaultName(value) };
  });
  const names = new Set(out.map((m) => m.name));
  if (names.size !== out.length) throw new MailboxConfigError('mailbox names must be unique');
  return out;
}
