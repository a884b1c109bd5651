import { addressesIn } from './addresses.js';
import { findReplyToken } from './reply-token.js';
import { parseSubjectTag } from './subject-tag.js';
import type { ParsedMail } from './parse-mail.js';

export interface ThreadHints {
  /** Unverified reply token from a plus-address; verify before trusting it. */
  replyToken: string | null;
  subjectTicketNumber: number | null;
  inReplyTo: string | null;
  /** References plus In-Reply-To, oldest first, de-duplicated. */
  references: string[];
}

// Where a plus-address can survive: forwarding and aliases often rewrite To but keep
// the envelope recipient in Delivered-To / X-Original-To.
const ENVELOPE_HEADERS = ['delivered-to', 'x-original-to', 'envelope-to', 'x-envelope-to'];

export function threadHints(
  mail: Pick<ParsedMail, 'to' | 'cc' | 'headers' | 'subject' | 'inReplyTo' | 'references'>,
): ThreadHints {
  const addresses = [
    ...mail.to.map((a) => a.address),
    ...mail.cc.map((a) => a.address),
    ...ENVELOPE_HEADERS.flatMap((h) => (mail.headers[h] ?? []).flatMap(addressesIn)),
  ];
  const references = [...mail.references];
  if (mail.inReplyTo && !references.includes(mail.inReplyTo)) references.push(mail.inReplyTo);
  return {
    replyToken: findReplyToken(addresses),
    subjectTicketNumber: parseSubjectTag(mail.subject),
    inReplyTo: mail.inReplyTo,
    references,
  };
}
