import { describe, expect, it } from 'vitest';
import { classifySmtpError } from './mailer.js';
import { addressSuppression } from './suppression.js';

describe('addressSuppression', () => {
  it.each([
    ['noreply@shop.example', 'noreply_address'],
    ['No-Reply@shop.example', 'noreply_address'],
    ['do_not_reply@bank.example', 'noreply_address'],
    ['noreply-alerts@github.example', 'noreply_address'],
    ['MAILER-DAEMON@mx.example', 'noreply_address'],
    ['postmaster@mx.example', 'noreply_address'],
    ['support+t1-abc-def@example.test', 'own_address'],
    ['not an address', 'invalid_address'],
    ['alice@example.test', null],
    ['replyguy@example.test', null],
  ])('%s → %s', (address, reason) => {
    expect(addressSuppression(address, ['support@example.test'])).toBe(reason);
  });
});

describe('classifySmtpError', () => {
  it('5xx is permanent, 4xx / 503 / connection errors are not', () => {
    expect(classifySmtpError({ responseCode: 550, permanent: true }).permanent).toBe(true);
    expect(classifySmtpError({ responseCode: 552 }).permanent).toBe(true);
    expect(classifySmtpError({ responseCode: 421, permanent: false }).permanent).toBe(false);
    expect(classifySmtpError({ responseCode: 503 }).permanent).toBe(false);
    expect(classifySmtpError({ code: 'ECONNECTION' }).permanent).toBe(false);
  });
});
