import type { AddressObject, EmailAddress } from 'mailparser';

export interface MailAddress {
  /** Lower-cased `local@domain`; empty when the header held only a display name. */
  address: string;
  name: string;
}

/** Flattens mailparser's address objects (including RFC 5322 groups) into one list. */
export function normalizeAddresses(
  value: AddressObject | AddressObject[] | undefined,
): MailAddress[] {
  if (!value) return [];
  const out: MailAddress[] = [];
  for (const obj of Array.isArray(value) ? value : [value]) {
    for (const entry of obj.value) visit(entry, out);
  }
  return out;
}

function visit(entry: EmailAddress, out: MailAddress[]): void {
  if (entry.group) {
    for (const member of entry.group) visit(member, out);
    return;
  }
  const address = (entry.address ?? '').trim().toLowerCase();
  const name = (entry.name ?? '').trim();
  if (address || name) out.push({ address, name });
}

/** Extracts every `local@domain` in a free-form header value (Delivered-To, Return-Path). */
export function addressesIn(text: string): string[] {
  const found = text.match(/[^\s<>"'(),;:[\]]+@[^\s<>"'(),;:[\]]+/g) ?? [];
  return found.map((a) => a.toLowerCase().replace(/\.$/, ''));
}

/** Splits `local@domain` (the last @ wins, so quoted locals with @ stay intact). */
export function splitAddress(address: string): { local: string; domain: string } | null {
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return null;
  return { local: address.slice(0, at), domain: address.slice(at + 1).toLowerCase() };
}

/**
 * True when `address` matches one of `patterns`: a full address, or `@domain`
 * (which also matches subdomains, so `@example.test` covers `eu.example.test`).
 */
export function matchesAddress(address: string, patterns: readonly string[]): boolean {
  const addr = address.trim().toLowerCase();
  const parts = splitAddress(addr);
  if (!parts) return false;
  const bare = stripPlusTag(addr);
  return patterns.some((raw) => {
    const p = raw.trim().toLowerCase();
    if (p.startsWith('@')) {
      const d = p.slice(1);
      return parts.domain === d || parts.domain.endsWith(`.${d}`);
    }
    return p === addr || p === bare;
  });
}

/** `support+t123@x` → `support@x`: plus-addressed replies still come from/to the same mailbox. */
export function stripPlusTag(address: string): string {
  const parts = splitAddress(address);
  if (!parts) return address;
  const plus = parts.local.indexOf('+');
  return plus > 0 ? `${parts.local.slice(0, plus)}@${parts.domain}` : address;
}
