import { stripPlusTag } from '@mailroom/mail';

// Addresses that must never get an automatic mail: answering them makes mail loops
// (RFC 3834 section 2) or mails nobody reads.
const NO_REPLY_LOCAL =
  /^(?:no[-_.]?reply|do[-_.]?not[-_.]?reply|donotreply)(?:[-_.].*)?$|^(?:mailer[-_.]?daemon|mail[-_.]?daemon|post[-_.]?master|bounces?|double[-_.]?bounce|mail[-_.]?delivery[-_.]?(?:system|subsystem)?)$/i;

export type SuppressionReason =
  | 'invalid_address'
  | 'noreply_address'
  | 'own_address'
  | 'automated_sender'
  | 'undeliverable'
  | 'rate_limited';

/** Why an address itself must not be mailed, or null. */
export function addressSuppression(
  address: string,
  ownAddresses: readonly string[],
): SuppressionReason | null {
  const bare = stripPlusTag(address.trim().toLowerCase());
  const at = bare.lastIndexOf('@');
  if (at <= 0 || at === bare.length - 1 || /\s/.test(bare)) return 'invalid_address';
  if (NO_REPLY_LOCAL.test(bare.slice(0, at))) return 'noreply_address';
  if (ownAddresses.some((own) => stripPlusTag(own.toLowerCase()) === bare)) return 'own_address';
  return null;
}
