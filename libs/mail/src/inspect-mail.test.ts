import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { inspectMail } from './inspect-mail.js';
import { runMailCli } from './mail-cli.js';
import { DATA_DIR, listFiles } from './test-support/fixtures.js';

function capture() {
  const out = { stdout: '', stderr: '' };
  const io = {
    stdout: { write: (s: string) => (out.stdout += s) },
    stderr: { write: (s: string) => (out.stderr += s) },
    readFile: (p: string) => readFile(p),
  };
  return { out, io };
}

describe('inspectMail', () => {
  it('summarizes a customer reply', async () => {
    const r = await inspectMail(
      Buffer.from(
        'From: Ann <ann@customer.test>\r\nTo: support@example.test\r\nSubject: Re: [#1042] Printer\r\nMessage-ID: <r1@customer.test>\r\nIn-Reply-To: <o1@example.test>\r\nDate: Tue, 1 Jul 2025 10:00:00 +0000\r\n\r\nStill broken.\r\n\r\nOn Mon, 30 Jun 2025, Support wrote:\r\n> Did a restart help?\r\n',
      ),
    );
    expect(r).toMatchObject({
      ok: true,
      automated: false,
      automatedReason: null,
      replyText: 'Still broken.',
      subject: 'Re: [#1042] Printer',
      messageId: '<r1@customer.test>',
      threadHints: {
        subjectTicketNumber: 1042,
        inReplyTo: '<o1@example.test>',
        references: ['<o1@example.test>'],
      },
      problems: [],
    });
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });

  it('returns data, not an exception, for an empty message', async () => {
    const r = await inspectMail(Buffer.alloc(0));
    expect(r.ok).toBe(false);
    expect(r.error?.code).toBe('EMPTY_MESSAGE');
    expect(r.problems).toEqual(['EMPTY_MESSAGE: source is empty']);
  });
});

describe('runMailCli', () => {
  it('prints JSON and exits 0 for every MIME corpus file and a bounce', async () => {
    const files = [
      ...listFiles(`${DATA_DIR}/mail/mime/mikel-mail`),
      `${DATA_DIR}/mail/bounces/sisimai/automated/lhost-postfix-01.eml`,
    ];
    for (const file of files) {
      const { out, io } = capture();
      expect(await runMailCli(['mail', 'inspect', file], io), file).toBe(0);
      const json = JSON.parse(out.stdout) as Record<string, unknown>;
      for (const key of [
        'automated',
        'automatedReason',
        'replyText',
        'threadHints',
        'attachments',
        'problems',
        'subject',
        'from',
        'messageId',
      ]) {
        expect(json, `${file} ${key}`).toHaveProperty(key);
      }
    }
    const { out, io } = capture();
    await runMailCli(
      ['inspect', `${DATA_DIR}/mail/bounces/sisimai/automated/lhost-postfix-01.eml`],
      io,
    );
    expect(JSON.parse(out.stdout)).toMatchObject({ automated: true, automatedKind: 'bounce' });
  });

  it('fails only on usage errors and unreadable files', async () => {
    const usage = capture();
    expect(await runMailCli(['mail', 'inspect'], usage.io)).toBe(2);
    expect(usage.out.stderr).toContain('usage');
    const missing = capture();
    expect(await runMailCli(['mail', 'inspect', '/nonexistent/x.eml'], missing.io)).toBe(1);
    expect(missing.out.stdout).toBe('');
  });
});
