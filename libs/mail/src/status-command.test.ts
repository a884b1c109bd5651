import type { AuthenticateResult } from 'mailauth';
import { describe, expect, it } from 'vitest';
import { authorizeStatusCommand, parseStatusCommand } from './status-command.js';

describe('parseStatusCommand', () => {
  it.each([
    ['#status resolved\nThanks!', { command: 'status', status: 'resolved' }],
    ['\n\n  #STATUS In Progress', { command: 'status', status: 'in_progress' }],
    ['#status: in_progress', { command: 'status', status: 'in_progress' }],
    ['Hi,\n#close', { command: 'close', status: 'closed' }],
    ['#Reopen please, still broken', { command: 'reopen', status: 'open' }],
  ])('%j', (text, expected) => {
    expect(parseStatusCommand(text)).toEqual(expected);
  });

  it.each([
    ['no command here'],
    ['#status banana'],
    ['> #close\nquoted from someone else'],
    ['one\ntwo\nthree\n#close'],
    ['We will #close this later'],
  ])('ignores %j', (text) => {
    expect(parseStatusCommand(text)).toBeNull();
  });
});

describe('authorizeStatusCommand', () => {
  const base = {
    requester: 'ann@customer.test',
    agents: ['lead@example.test', '@support.example.test'],
  };

  it('lets requesters close and reopen their own ticket only', () => {
    expect(
      authorizeStatusCommand({ ...base, sender: 'Ann@customer.test', status: 'closed' }).allowed,
    ).toBe(true);
    expect(
      authorizeStatusCommand({ ...base, sender: 'ann@customer.test', status: 'open' }).allowed,
    ).toBe(true);
    expect(
      authorizeStatusCommand({ ...base, sender: 'ann@customer.test', status: 'in_progress' }),
    ).toMatchObject({
      allowed: false,
    });
    expect(
      authorizeStatusCommand({ ...base, sender: 'bob@customer.test', status: 'closed' }).allowed,
    ).toBe(false);
  });

  it('lets agents (address or domain) set any status', () => {
    expect(
      authorizeStatusCommand({ ...base, sender: 'lead@example.test', status: 'on_hold' }).allowed,
    ).toBe(true);
    expect(
      authorizeStatusCommand({ ...base, sender: 'x@eu.support.example.test', status: 'pending' })
        .allowed,
    ).toBe(true);
  });

  it('requires aligned DKIM or SPF from Authentication-Results when configured', () => {
    const ok = (ar: string) =>
      authorizeStatusCommand({
        ...base,
        sender: 'ann@customer.test',
        status: 'closed',
        requireAuth: true,
        auth: { authenticationResults: [ar] },
      }).allowed;
    expect(ok('mx.example.test; dkim=pass header.d=customer.test header.s=s1; spf=fail')).toBe(
      true,
    );
    expect(ok('mx.example.test; spf=pass smtp.mailfrom=bounce@mail.customer.test')).toBe(true);
    expect(
      ok('mx.example.test; dkim=pass header.d=evil.test; spf=pass smtp.mailfrom=evil.test'),
    ).toBe(false);
    expect(ok('mx.example.test; dkim=fail header.d=customer.test')).toBe(false);
    expect(
      authorizeStatusCommand({
        ...base,
        sender: 'ann@customer.test',
        status: 'closed',
        requireAuth: true,
      }).allowed,
    ).toBe(false);
  });

  it('accepts a mailauth authenticate() result', () => {
    const result = {
      dkim: {
        headerFrom: ['ann@customer.test'],
        envelopeFrom: 'ann@customer.test',
        results: [{ signingDomain: 'customer.test', status: { result: 'pass', aligned: true } }],
      },
      spf: false,
      dmarc: false,
    } as unknown as AuthenticateResult;
    const verdict = authorizeStatusCommand({
      ...base,
      sender: 'ann@customer.test',
      status: 'closed',
      requireAuth: true,
      auth: result,
    });
    expect(verdict).toEqual({ allowed: true, reason: 'requester, DKIM pass for customer.test' });
  });
});
