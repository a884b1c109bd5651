import { createHmac, timingSafeEqual } from 'node:crypto';
import { splitAddress } from './addresses.js';

// Token layout: `<version>-<base32 ticket id>-<base32 MAC>`. Lower-case base32 and
// hyphens only, because some MTAs lower-case local parts and others reject odd
// characters; a version prefix lets us rotate the format later.
const VERSION = '1';
const MAC_BYTES = 10; // 80 bits: far beyond guessing through an SMTP server
const B32 = 'abcdefghijklmnopqrstuvwxyz234567';
const TOKEN_RE = /^([0-9])-([a-z2-7]+)-([a-z2-7]+)$/;
const TAG_RE = /\+t([0-9]-[a-z2-7]+-[a-z2-7]+)@/i;

export type VerifyReplyTokenResult =
  | { ok: true; ticketId: string; version: string }
  | { ok: false; reason: 'malformed' | 'unsupported_version' | 'bad_signature' };

function base32(buf: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of buf) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31];
  return out;
}

function fromBase32(s: string): Buffer | null {
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const ch of s) {
    const v = B32.indexOf(ch);
    if (v < 0) return null;
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

function mac(version: string, ticketId: string, secret: string): Buffer {
  return createHmac('sha256', secret)
    .update(`mailroom-reply:${version}:${ticketId}`)
    .digest()
    .subarray(0, MAC_BYTES);
}

/** A token that proves a reply address was issued by us for this ticket. */
export function signReplyToken(ticketId: string | number, secret: string): string {
  const id = String(ticketId);
  return `${VERSION}-${base32(Buffer.from(id, 'utf8'))}-${base32(mac(VERSION, id, secret))}`;
}

/**
 * Checks a token against the current secret and, during a rotation, older ones.
 * Comparison is constant-time so response timing leaks nothing about the MAC.
 */
export function verifyReplyToken(
  token: string,
  secret: string | readonly string[],
): VerifyReplyTokenResult {
  const m = token.trim().toLowerCase().match(TOKEN_RE);
  if (!m?.[1] || !m[2] || !m[3]) return { ok: false, reason: 'malformed' };
  if (m[1] !== VERSION) return { ok: false, reason: 'unsupported_version' };
  const idBytes = fromBase32(m[2]);
  const given = fromBase32(m[3]);
  if (!idBytes || !given || given.length !== MAC_BYTES) return { ok: false, reason: 'malformed' };
  const ticketId = idBytes.toString('utf8');
  if (base32(Buffer.from(ticketId, 'utf8')) !== m[2]) return { ok: false, reason: 'malformed' };
  for (const s of typeof secret === 'string' ? [secret] : secret) {
    if (timingSafeEqual(mac(m[1], ticketId, s), given))
      return { ok: true, ticketId, version: m[1] };
  }
  return { ok: false, reason: 'bad_signature' };
}

/** `support@example.test` + token → `support+t<token>@example.test`. */
export function replyAddress(baseAddress: string, token: string): string {
  const parts = splitAddress(baseAddress.trim());
  if (!parts) throw new TypeError(`not an address: ${baseAddress}`);
  const local = parts.local.split('+')[0] ?? parts.local;
  return `${local}+t${token}@${parts.domain}`;
}

/** The (unverified) token from the first address that carries one, e.g. To, Cc, Delivered-To. */
export function findReplyToken(addresses: readonly string[]): string | null {
  for (const a of addresses) {
    const m = a.match(TAG_RE);
    if (m?.[1]) return m[1].toLowerCase();
  }
  return null;
}
