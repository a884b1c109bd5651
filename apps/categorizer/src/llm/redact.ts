// Removes personal data from ticket text before it leaves for a third-party API.
// Categorizing "my card 4111 1111 1111 1111 was charged twice" needs the words,
// not the number. Only what is sent is redacted; the stored ticket keeps everything.

export interface RedactionCounts {
  email: number;
  phone: number;
  card: number;
}

export interface RedactionResult {
  text: string;
  counts: RedactionCounts;
}

export const REDACTED = { email: '[email]', phone: '[phone]', card: '[card]' } as const;

const EMAIL =
  /[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+/g;

// 13-19 digits, optionally grouped by single spaces or dashes (how people type them).
const CARD_CANDIDATE = /(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])/g;

// Digit groups joined by space, dot, dash or parentheses, optionally with a leading +.
const PHONE_CANDIDATE = /(?<![\w+])(?:\+|00)?\(?\d[\d\s().-]{5,22}\d(?![\w])/g;

// Dates, times and IP addresses have the same shape; they are not personal data.
const DATE_PREFIX = /^(\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4})(\s|$)/;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** Luhn checksum: separates card numbers from other long digit strings. */
export function luhnValid(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

function looksLikePhone(candidate: string): boolean {
  const digits = candidate.replace(/\D/g, '');
  if (digits.length < 7 || digits.length > 15) return false;
  if (DATE_PREFIX.test(candidate) || IPV4.test(candidate)) return false;
  const international = /^(\+|00)/.test(candidate);
  const groups = candidate.split(/[\s().-]+/).filter(Boolean).length;
  // "12345.67" (an amount) and "4711-2" (an order) are not phones; "030 1234567",
  // "+44 20 7946 0958" and "(555) 123-4567" are. Unbroken runs of 10+ digits are
  // redacted too: more often an order number than a phone, but harmless to hide.
  return international || digits.length >= 10 || groups >= 3;
}

export function redactText(text: string): RedactionResult {
  const counts: RedactionCounts = { email: 0, phone: 0, card: 0 };
  let out = text.replace(EMAIL, () => {
    counts.email++;
    return REDACTED.email;
  });
  // Cards before phones: a card number also matches the phone shape.
  out = out.replace(CARD_CANDIDATE, (m) => {
    if (!luhnValid(m.replace(/\D/g, ''))) return m;
    counts.card++;
    return REDACTED.card;
  });
  out = out.replace(PHONE_CANDIDATE, (m) => {
    if (!looksLikePhone(m)) return m;
    counts.phone++;
    return REDACTED.phone;
  });
  return { text: out, counts };
}
