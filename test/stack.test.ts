// The local stack's mail servers are real: SMTP into GreenMail and out over IMAP with
// imapflow; Dovecot accepts an APPEND and pushes it to an IDLE-ing client.
import { describe, expect, it } from 'vitest';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { stackEnv, unique, waitFor } from './support/env.js';

const domain = stackEnv('MAIL_DOMAIN');

function imap(port: number, user: string, pass: string) {
  return new ImapFlow({
    host: '127.0.0.1',
    port,
    secure: false,
    auth: { user, pass },
    logger: false,
  });
}

describe('GreenMail', () => {
  it('delivers a mail sent over SMTP to the mailbox read over IMAP', async () => {
    const subject = unique('stack-check');
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: Number(stackEnv('SMTP_PORT')),
      secure: false,
    });
    await transport.sendMail({
      from: `alice@${domain}`,
      to: `support@${domain}`,
      subject,
      text: 'my printer is on fire',
    });
    transport.close();

    const client = imap(Number(stackEnv('IMAP_PORT')), `support@${domain}`, 'support');
    await client.connect();
    try {
      const lock = await client.getMailboxLock('INBOX');
      try {
        const uids = await waitFor(
          async () => {
            const found = await client.search({ subject }, { uid: true });
            return found && found.length > 0 ? found : undefined;
          },
          { what: 'the mail in INBOX' },
        );
        const msg = await client.fetchOne(
          String(uids[0]),
          { envelope: true, source: true },
          { uid: true },
        );
        expect(msg && msg.envelope?.from?.[0]?.address).toBe(`alice@${domain}`);
        expect(msg && msg.source?.toString()).toContain('my printer is on fire');
      } finally {
        lock.release();
      }
    } finally {
      await client.logout();
    }
  });
});

describe('Dovecot', () => {
  it('accepts an APPEND and notifies an IDLE-ing client', async () => {
    const port = Number(stackEnv('DOVECOT_IMAP_PORT'));
    const watcher = imap(port, 'bob', 'bob');
    const writer = imap(port, 'bob', 'bob');
    await watcher.connect();
    await writer.connect();
    try {
      const lock = await watcher.getMailboxLock('INBOX');
      try {
        const before = (watcher.mailbox && watcher.mailbox.exists) || 0;
        let notified = 0;
        watcher.on('exists', (data: { count: number }) => {
          notified = data.count;
        });
        // Enter IDLE explicitly; idle() resolves when the next command breaks it.
        const idling = watcher.idle();
        await new Promise((r) => setTimeout(r, 300));
        const subject = unique('idle-check');
        await writer.append(
          'INBOX',
          `From: carol@${domain}\r\nTo: bob@${domain}\r\nSubject: ${subject}\r\n\r\nhello\r\n`,
        );
        await waitFor(() => notified > before, {
          timeoutMs: 10_000,
          what: 'an EXISTS push while idling',
        });
        expect(notified).toBe(before + 1);
        await watcher.noop();
        await idling;
      } finally {
        lock.release();
      }
    } finally {
      await Promise.all([watcher.logout(), writer.logout()]);
    }
  });
});
