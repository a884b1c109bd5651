import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectAutomated } from './detect-automated.js';
import { parseMail, type ParsedMail } from './parse-mail.js';
import { DATA_DIR, listFiles } from './test-support/fixtures.js';

const SISIMAI = `${DATA_DIR}/mail/bounces/sisimai`;

async function parseOk(source: Buffer | string): Promise<ParsedMail> {
  const r = await parseMail(
    Buffer.isBuffer(source) ? source : Buffer.from(source.replace(/\n/g, '\r\n')),
  );
  if (!r.ok) throw new Error(r.error.message);
  return r.mail;
}

const human = (
  extra: string,
  subject = 'Printer is broken',
  body = 'Hi, my printer is broken. Can you help?',
) =>
  parseOk(
    `From: Ann <ann@customer.test>\nTo: support@example.test\nSubject: ${subject}\nMessage-ID: <1@customer.test>\nDate: Tue, 1 Jul 2025 10:00:00 +0000\n${extra}\n${body}\n`,
  );

describe('detectAutomated on the sisimai corpus', () => {
  it('recognizes every automated message', async () => {
    const files = listFiles(`${SISIMAI}/automated`, (n) => n.endsWith('.eml'));
    const missed: string[] = [];
    const kinds: Record<string, number> = {};
    for (const file of files) {
      const verdict = detectAutomated(await parseOk(readFileSync(file)));
      if (!verdict.automated) missed.push(basename(file));
      kinds[String(verdict.kind)] = (kinds[String(verdict.kind)] ?? 0) + 1;
      // The three families must land in the right bucket: bounces mark addresses
      // undeliverable, auto-replies are only recorded.
      if (basename(file).startsWith('rfc3834-')) expect(verdict.kind, file).toBe('auto_reply');
      if (/^arf-(0|1|2[0-5])/.test(basename(file)))
        expect(verdict.kind, file).toBe('feedback_report');
      if (basename(file).startsWith('lhost-') && !/amazonses-1[0-3]/.test(file)) {
        expect(['bounce', 'feedback_report'], file).toContain(verdict.kind);
      }
    }
    console.info(`sisimai automated: ${files.length - missed.length}/${files.length}`, kinds);
    expect(missed).toEqual([]);
    expect(files.length - missed.length).toBe(files.length);
  });

  it('leaves ordinary messages that merely look like bounces alone', async () => {
    for (const name of ['is-not-bounce-01.eml', 'is-not-bounce-02.eml']) {
      const verdict = detectAutomated(
        await parseOk(readFileSync(`${SISIMAI}/not-automated/${name}`)),
      );
      expect(verdict, name).toEqual({ automated: false, kind: null, reason: null });
    }
  });

  // Labelled "not automated" in the data set, but the message carries three independent
  // machine signals (Auto-Submitted: auto-replied, Return-Path: <>, From: postmaster@) and
  // reports a full mailbox. Treating it as a person would acknowledge a bounce, which is
  // exactly the loop RFC 3834 forbids, so we keep calling it a bounce.
  it('classifies rb-issue-368 (mailbox-full notice from postmaster) as a bounce', async () => {
    const verdict = detectAutomated(
      await parseOk(readFileSync(`${SISIMAI}/not-automated/rb-issue-368-bug.eml`)),
    );
    expect(verdict.kind).toBe('bounce');
  });

  it('extracts the failed recipients of DSNs', async () => {
    const files = listFiles(`${SISIMAI}/automated`, (n) =>
      /^(lhost-postfix|lhost-exim|rfc3464)/.test(n),
    );
    let withRecipients = 0;
    for (const file of files) {
      const verdict = detectAutomated(await parseOk(readFileSync(file)));
      if (verdict.bouncedRecipients?.length) withRecipients++;
      for (const r of verdict.bouncedRecipients ?? []) expect(r).toMatch(/^[^@\s]+@[^@\s]+$/);
    }
    expect(withRecipients / files.length).toBeGreaterThan(0.9);
  });
});

describe('detectAutomated rules', () => {
  it('passes a normal customer message', async () => {
    expect(detectAutomated(await human('')).automated).toBe(false);
    expect(detectAutomated(await human('Auto-Submitted: no\n')).automated).toBe(false);
  });

  it.each([
    ['Auto-Submitted: auto-generated\n', 'bulk'],
    ['Auto-Submitted: auto-replied\n', 'auto_reply'],
    ['Precedence: bulk\n', 'bulk'],
    ['Precedence: junk\n', 'bulk'],
    ['Precedence: list\n', 'list'],
    ['Precedence: auto_reply\n', 'auto_reply'],
    ['X-Autoreply: yes\n', 'auto_reply'],
    ['X-Autorespond: vacation\n', 'auto_reply'],
    ['X-Auto-Response-Suppress: All\n', 'bulk'],
    ['List-Id: <dev.lists.example.test>\n', 'list'],
    ['List-Unsubscribe: <mailto:unsub@lists.example.test>\n', 'list'],
    ['X-Failed-Recipients: gone@customer.test\n', 'bounce'],
    ['Return-Path: <>\n', 'bulk'],
  ])('%s → %s', async (header, kind) => {
    const verdict = detectAutomated(await human(header));
    expect(verdict.automated).toBe(true);
    expect(verdict.kind).toBe(kind);
    expect(verdict.reason).toBeTruthy();
  });

  it('lists the failed recipient from X-Failed-Recipients', async () => {
    const verdict = detectAutomated(await human('X-Failed-Recipients: Gone@Customer.test\n'));
    expect(verdict.bouncedRecipients).toEqual(['gone@customer.test']);
  });

  it('treats an out-of-office as an auto-reply, not a bounce', async () => {
    const verdict = detectAutomated(
      await human(
        'Auto-Submitted: auto-replied\n',
        'Out of Office: Printer is broken',
        'I am away until Monday.',
      ),
    );
    expect(verdict.kind).toBe('auto_reply');
    const outlook = detectAutomated(
      await human('', 'Automatic reply: Printer is broken', 'I am on leave.'),
    );
    expect(outlook.kind).toBe('auto_reply');
  });

  it('catches MAILER-DAEMON and postmaster senders', async () => {
    const mail = await parseOk(
      'From: Mail Delivery System <MAILER-DAEMON@mx.example.test>\nTo: support@example.test\nSubject: Undelivered Mail Returned to Sender\n\n<gone@customer.test>: host mx said: 550 5.1.1 User unknown\n',
    );
    const verdict = detectAutomated(mail);
    expect(verdict.kind).toBe('bounce');
    expect(verdict.bouncedRecipients).toEqual(['gone@customer.test']);
  });

  it('does not flag a customer who writes about a bounce without any machine signal', async () => {
    const mail = await human(
      '',
      'Question about my order',
      'Your newsletter says my message was rejected, why?',
    );
    expect(detectAutomated(mail).automated).toBe(false);
  });

  it('detects our own mail coming back', async () => {
    const fromUs = await parseOk(
      'From: support@example.test\nTo: ann@customer.test\nSubject: hi\n\nx\n',
    );
    expect(detectAutomated(fromUs, { ourAddresses: ['support@example.test'] }).kind).toBe(
      'own_mail',
    );
    expect(detectAutomated(fromUs, { ourAddresses: ['@example.test'] }).kind).toBe('own_mail');
    const ourId = await parseOk(
      'From: relay@else.test\nMessage-ID: <t-1@mail.example.test>\nSubject: hi\n\nx\n',
    );
    expect(detectAutomated(ourId, { ourMessageIdDomain: 'mail.example.test' }).kind).toBe(
      'own_mail',
    );
    expect(detectAutomated(ourId, { ourMessageIdDomain: 'other.test' }).automated).toBe(false);
  });
});
