import { describe, expect, it } from 'vitest';
import { luhnValid, redactText } from './redact.js';

describe('redactText', () => {
  it('removes e-mail addresses', () => {
    const r = redactText('Contact jane.doe+it@example.co.uk or bob@corp.example please');
    expect(r.text).toBe('Contact [email] or [email] please');
    expect(r.counts.email).toBe(2);
  });

  it('removes Luhn-valid card numbers in the usual groupings, keeps other long numbers', () => {
    const r = redactText('Card 4111 1111 1111 1111, also 5500-0000-0000-0004 and 378282246310005.');
    expect(r.text).toBe('Card [card], also [card] and [card].');
    expect(r.counts.card).toBe(3);
    // 16 digits but not Luhn-valid: an order or tracking number, not a card.
    expect(redactText('tracking 1234 5678 9012 3456').counts.card).toBe(0);
  });

  it('removes phone numbers in common formats', () => {
    for (const phone of [
      '+44 20 7946 0958',
      '(555) 123-4567',
      '555-123-4567',
      '030 12345678',
      '0049 30 1234567',
      '+1.555.123.4567',
    ]) {
      const r = redactText(`call me on ${phone} today`);
      expect(r.text, phone).toBe('call me on [phone] today');
    }
  });

  it('keeps dates, times, amounts, IP addresses and short numbers', () => {
    const text =
      'On 2024-01-15 10:30 invoice 4711 for 12345.67 EUR from 192.168.100.200, room 3.14, ticket #1042, 15.01.2024';
    const r = redactText(text);
    expect(r.text).toBe(text);
    expect(r.counts).toEqual({ email: 0, phone: 0, card: 0 });
  });

  it('checks Luhn', () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
    expect(luhnValid('abc')).toBe(false);
  });
});
