// buildRecord encodes its records without a schema pass when withinBounds vouches for
// them: every record it builds must then be valid, whatever the mail held. Checked on
// the real corpora and on mail whose every field is far beyond its schema's bounds.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateEnvelope, type AttachmentRef } from '@mailroom/events';
import { detectAutomated, parseMail, type ParsedMail } from '@mailroom/mail';
import { DATA_DIR, listFiles } from '../../../libs/mail/src/test-support/fixtures.js';
import { buildRecord, withinBounds, type BuildInput, type BuiltRecord } from './build-record.js';

const origin = { mailbox: 'support@example.test', uidValidity: '7', uid: 42, size: 1234 };
const RAW = 'a'.repeat(64);

function input(mail: ParsedMail, overrides: Partial<BuildInput> = {}): BuildInput {
  const attachments: AttachmentRef[] = mail.attachments.map((a, i) => ({
    blobId: a.sha256,
    filename: (a.filename?.trim() || `part-${a.partId ?? i + 1}`).slice(0, 255),
    contentType: a.contentType.slice(0, 255),
    size: a.size,
  }));
  return {
    mail,
    origin,
    rawBlobId: RAW,
    attachments,
    verdict: detectAutomated(mail),
    receivedAt: new Date().toISOString(),
    ...overrides,
  };
}

/** A built record must pass the full schema validation, as it is sent. */
function expectValid(built: BuiltRecord): void {
  if (!built.ok) return;
  expect(withinBounds(built.event.payload)).toBe(true);
  expect(() => validateEnvelope(JSON.parse(built.message.value as string))).not.toThrow();
}

const corpus = [
  ...listFiles(`${DATA_DIR}/mail/bounces`, (n) => n.endsWith('.eml')),
  ...listFiles(`${DATA_DIR}/mail/mime`),
];

describe('buildRecord', () => {
  it('builds only schema-valid records from the corpora', async () => {
    let built = 0;
    for (const file of corpus) {
      const parsed = await parseMail(readFileSync(file));
      if (!parsed.ok) continue;
      const record = buildRecord(input(parsed.mail));
      expectValid(record);
      if (record.ok) built++;
    }
    expect(built).toBeGreaterThan(corpus.length / 2);
  });

  it('bounds every field of mail far beyond the schema', async () => {
    const parsed = await parseMail(readFileSync(corpus[0]!));
    if (!parsed.ok) throw parsed.error;
    const long = (n: number) => 'x'.repeat(n);
    const person = (i: number) => ({ address: `p${i}@example.test`, name: ` ${long(500)} ` });
    const many = Array.from({ length: 300 }, (_, i) => person(i));
    const mail: ParsedMail = {
      ...parsed.mail,
      from: [person(0)],
      to: many,
      cc: many,
      subject: long(5000),
      text: `${long(200_000)}\n> quoted`,
      messageId: `<${long(2000)}@example.test>`,
      inReplyTo: `<${long(2000)}@example.test>`,
      references: Array.from({ length: 300 }, (_, i) => `<${i}${long(1200)}@example.test>`),
      authenticationResults: Array.from({ length: 30 }, () => long(5000)),
      problems: Array.from({ length: 80 }, (_, i) => `${i}${long(2000)}`),
      headers: { ...parsed.mail.headers, 'delivered-to': [`support+${long(400)}@example.test`] },
    };
    const attachments = Array.from({ length: 300 }, (_, i) => ({
      blobId: RAW,
      filename: `${i}${long(300)}`.slice(0, 255),
      contentType: 'text/plain',
      size: i,
    }));
    const verdict = {
      automated: true,
      kind: 'bounce' as const,
      reason: long(3000),
      bouncedRecipients: Array.from({ length: 150 }, (_, i) => `r${i}@example.test`),
    };
    const built = buildRecord(
      input(mail, { attachments, verdict, oversized: { limit: 1024, size: 4096 } }),
    );
    expect(built.ok).toBe(true);
    expectValid(built);
    // No Message-ID: one derived from the content, still within bounds.
    expectValid(buildRecord(input({ ...mail, messageId: null })));
  });

  it('leaves what it cannot vouch for to the schema, which dead-letters it as before', async () => {
    const parsed = await parseMail(readFileSync(corpus[0]!));
    if (!parsed.ok) throw parsed.error;
    const cases: Partial<BuildInput>[] = [
      { origin: { ...origin, mailbox: `${'m'.repeat(400)}@example.test` } },
      {
        verdict: {
          automated: true,
          kind: 'bounce',
          reason: 'test',
          bouncedRecipients: [`${'r'.repeat(400)}@example.test`],
        },
      },
      { rawBlobId: 'b'.repeat(300) },
    ];
    for (const overrides of cases) {
      const built = buildRecord(input(parsed.mail, overrides));
      expect(built.ok).toBe(false);
      if (!built.ok) {
        expect(built.code).toBe('RECORD_INVALID');
        expect(built.reason).toMatch(/must NOT have more than/);
      }
    }
  });
});
