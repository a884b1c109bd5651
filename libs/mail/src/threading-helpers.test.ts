import { describe, expect, it } from 'vitest';
import { parseMail } from './parse-mail.js';
import { findReplyToken, replyAddress, signReplyToken, verifyReplyToken } from './reply-token.js';
import { resolveThread, type ThreadLookup, type TicketParticipants } from './resolve-thread.js';
import { normalizeSubject, parseSubjectTag, subjectTag } from './subject-tag.js';
import { threadHints, type ThreadHints } from './thread-hints.js';

const SECRET = 'test-secret';

describe('reply tokens', () => {
  it('round-trips ticket ids, including uuids', () => {
    for (const id of ['1042', 42, '0b6d5f5e-8a47-4a53-9d1a-9f1c8f3a7e11']) {
      const token = signReplyToken(id, SECRET);
      expect(token).toMatch(/^1-[a-z2-7]+-[a-z2-7]{16}$/);
      expect(verifyReplyToken(token, SECRET)).toEqual({
        ok: true,
        ticketId: String(id),
        version: '1',
      });
      // MTAs that upper-case local parts must not break verification
      expect(verifyReplyToken(token.toUpperCase(), SECRET).ok).toBe(true);
    }
  });

  it('rejects forged, tampered, foreign-version and malformed tokens', () => {
    const token = signReplyToken('1042', SECRET);
    expect(verifyReplyToken(token, 'other-secret')).toEqual({ ok: false, reason: 'bad_signature' });
    const forged = token.replace(
      /-[a-z2-7]+-/,
      `-${signReplyToken('1043', SECRET).split('-')[1]}-`,
    );
    expect(verifyReplyToken(forged, SECRET)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyReplyToken(`2${token.slice(1)}`, SECRET)).toEqual({
      ok: false,
      reason: 'unsupported_version',
    });
    expect(verifyReplyToken('garbage', SECRET)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyReplyToken(`${token}aa`, SECRET)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('accepts the previous secret during rotation', () => {
    const token = signReplyToken('7', 'old');
    expect(verifyReplyToken(token, ['new', 'old']).ok).toBe(true);
  });

  it('builds and finds reply addresses', () => {
    const token = signReplyToken('1042', SECRET);
    const addr = replyAddress('support@example.test', token);
    expect(addr).toBe(`support+t${token}@example.test`);
    expect(replyAddress('support+old@example.test', token)).toBe(addr);
    expect(findReplyToken(['ann@x.test', addr.toUpperCase()])).toBe(token);
    expect(findReplyToken(['support+newsletter@example.test'])).toBeNull();
  });
});

describe('subject tags', () => {
  it('formats and parses [#n]', () => {
    expect(subjectTag(1042)).toBe('[#1042]');
    expect(parseSubjectTag('Re: [#1042] Printer broken')).toBe(1042);
    expect(parseSubjectTag('Re: Printer #1042 broken')).toBeNull();
  });

  it.each([
    ['Re: Printer broken', 'Printer broken'],
    ['RE: Fwd: AW: SV: Printer broken', 'Printer broken'],
    ['Re[3]: [#1042] Printer broken', 'Printer broken'],
    ['WG: [support] Printer  broken', 'Printer broken'],
    ['回复：Printer broken', 'Printer broken'],
    ['Printer broken [#1042]', 'Printer broken'],
    ['Reply needed', 'Reply needed'],
  ])('normalizeSubject(%j)', (input, expected) => {
    expect(normalizeSubject(input)).toBe(expected);
  });
});

describe('threadHints', () => {
  it('collects token, tag and references from a parsed reply', async () => {
    const token = signReplyToken('t-9', SECRET);
    const r = await parseMail(
      Buffer.from(
        [
          'From: ann@customer.test',
          'To: Support <support@example.test>',
          `Delivered-To: support+t${token}@example.test`,
          'Subject: Re: [#1042] Printer broken',
          'In-Reply-To: <b@example.test>',
          'References: <a@example.test>',
          '',
          'thanks',
        ].join('\r\n'),
      ),
    );
    if (!r.ok) throw r.error;
    expect(threadHints(r.mail)).toEqual({
      replyToken: token,
      subjectTicketNumber: 1042,
      inReplyTo: '<b@example.test>',
      references: ['<a@example.test>', '<b@example.test>'],
    });
  });
});

describe('resolveThread', () => {
  const tickets: Record<string, TicketParticipants> = {
    t1: { ticketId: 't1', requester: 'ann@customer.test', cc: ['boss@customer.test'] },
    t2: { ticketId: 't2', requester: 'carl@other.test' },
  };
  const lookup: ThreadLookup = {
    secret: SECRET,
    agents: ['@example.test'],
    byTicketId: (id) => tickets[id] ?? null,
    byTicketNumber: (n) => (n === 1042 ? (tickets['t1'] ?? null) : null),
    byMessageId: (id) => (id === '<out-1@example.test>' ? (tickets['t2'] ?? null) : null),
  };
  const hints = (h: Partial<ThreadHints>): ThreadHints => ({
    replyToken: null,
    subjectTicketNumber: null,
    inReplyTo: null,
    references: [],
    ...h,
  });

  it('prefers a verified token over everything else', () => {
    const res = resolveThread(
      hints({ replyToken: signReplyToken('t2', SECRET), subjectTicketNumber: 1042 }),
      lookup,
      'someone@else.test',
    );
    expect(res).toMatchObject({ action: 'append', ticketId: 't2', rule: 'reply_token' });
  });

  it('falls back to the subject tag when the token is forged', () => {
    const res = resolveThread(
      hints({ replyToken: signReplyToken('t2', 'wrong'), subjectTicketNumber: 1042 }),
      lookup,
      'ann@customer.test',
    );
    expect(res).toMatchObject({ action: 'append', ticketId: 't1', rule: 'subject_tag' });
  });

  it('accepts requester, CC and agents on the subject tag, nobody else', () => {
    for (const sender of [
      'ann@customer.test',
      'Boss@Customer.test',
      'agent@example.test',
      'ann+x@customer.test',
    ]) {
      expect(
        resolveThread(hints({ subjectTicketNumber: 1042 }), lookup, sender).action,
        sender,
      ).toBe('append');
    }
    const hijack = resolveThread(hints({ subjectTicketNumber: 1042 }), lookup, 'mallory@evil.test');
    expect(hijack).toMatchObject({ action: 'new_ticket', rule: 'subject_tag' });
  });

  it('uses References/In-Reply-To with the same participant check', () => {
    const h = hints({ references: ['<zzz@x>', '<out-1@example.test>'] });
    expect(resolveThread(h, lookup, 'carl@other.test')).toMatchObject({
      action: 'append',
      ticketId: 't2',
      rule: 'references',
    });
    expect(resolveThread(h, lookup, 'mallory@evil.test')).toMatchObject({
      action: 'new_ticket',
      rule: 'references',
    });
    expect(resolveThread(hints({}), lookup, 'carl@other.test')).toEqual({
      action: 'new_ticket',
      rule: null,
      reason: 'no thread hints matched',
    });
  });
});
