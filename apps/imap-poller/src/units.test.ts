import { describe, expect, it } from 'vitest';
import { loadConfig } from '@mailroom/config';
import { backoffDelay } from './backoff.js';
import { ImapPollerConfig } from './config.js';
import { uidSet } from './ingest-batch.js';
import { MailboxConfigError, mailboxesFromConfig } from './mailboxes.js';

describe('backoffDelay', () => {
  it('grows exponentially with jitter and stays under the cap', () => {
    expect(backoffDelay(0, { initialMs: 500, random: () => 0 })).toBe(250);
    expect(backoffDelay(3, { initialMs: 500, random: () => 1 })).toBe(4000);
    expect(backoffDelay(30, { initialMs: 500, maxMs: 60_000, random: () => 1 })).toBe(60_000);
    expect(backoffDelay(30, { initialMs: 500, maxMs: 60_000, random: () => 0 })).toBe(30_000);
  });
});

describe('uidSet', () => {
  it('compresses runs into ranges', () => {
    expect(uidSet([5, 1, 2, 3, 7, 8])).toBe('1:3,5,7:8');
    expect(uidSet([42])).toBe('42');
  });
});

describe('mailboxesFromConfig', () => {
  it('defaults to the local GreenMail support mailbox', () => {
    const [m] = mailboxesFromConfig(loadConfig(ImapPollerConfig, {}));
    expect(m).toMatchObject({
      name: 'support@example.test',
      host: '127.0.0.1',
      port: 13143,
      user: 'support@example.test',
      password: 'support',
      folder: 'INBOX',
    });
  });

  it('reads a JSON list and names each mailbox; rejects bad entries with the reason', () => {
    const list = [
      { host: 'imap.a', port: 993, secure: true, user: 'help@a.test', accessToken: 't' },
      { name: 'b', host: 'imap.b', port: 143, user: 'x', password: 'p', folder: 'Support' },
    ];
    const config = loadConfig(ImapPollerConfig, { IMAP_MAILBOXES: JSON.stringify(list) });
    expect(mailboxesFromConfig(config).map((m) => [m.name, m.folder])).toEqual([
      ['help@a.test', 'INBOX'],
      ['b', 'Support'],
    ]);
    const bad = loadConfig(ImapPollerConfig, {
      IMAP_MAILBOXES: JSON.stringify([{ host: 'h', port: 1, user: 'u' }]),
    });
    expect(() => mailboxesFromConfig(bad)).toThrow(MailboxConfigError);
    expect(() => mailboxesFromConfig(bad)).toThrow(/password or accessToken/);
  });
});
