import {
  Email,
  ajv,
  deterministicId,
  encodeEvent,
  makeEvent,
  type AttachmentRef,
  type EmailReceived,
  type Envelope,
  type Person,
} from '@mailroom/events';
import {
  extractReply,
  threadHints,
  type AutomatedVerdict,
  type MailAddress,
  type ParsedMail,
} from '@mailroom/mail';
import type { Message } from '@mailroom/kafka';

export const SOURCE = 'imap-poller';

/** Where a message came from: enough to find it again in the mailbox. */
export interface MessageOrigin {
  mailbox: string;
  uidValidity: string;
  uid: number;
  size: number;
}

// Kafka records stay small (DESIGN.md): the full text is in the raw blob.
export const MAX_TEXT_CHARS = 100_000;
const MAX_PROBLEMS = 50;

const isEmail = ajv.compile(Email);

/** The domain-less `MAILER-DAEMON` and friends are not usable addresses; skip them. */
function person(a: MailAddress | undefined): Person | null {
  if (!a?.address || !isEmail(a.address)) return null;
  const name = a.name.trim().slice(0, 200);
  return name ? { email: a.address, name } : { email: a.address };
}

const people = (list: readonly MailAddress[]): Person[] =>
  list
    .map(person)
    .filter((p): p is Person => p !== null)
    .slice(0, 200);

function clip(text: string, max: number, what: string, notes: string[]): string {
  if (text.length <= max) return text;
  notes.push(`${what} truncated from ${text.length} to ${max} characters`);
  return text.slice(0, max);
}

/** A mail without Message-ID gets one from its content, so a re-scan dedupes it too. */
export const syntheticMessageId = (rawSha256: string) =>
  `<${rawSha256}@imap-poller.mailroom.invalid>`;

export interface BuildInput {
  mail: ParsedMail;
  origin: MessageOrigin;
  rawBlobId: string;
  attachments: AttachmentRef[];
  verdict: AutomatedVerdict;
  /** Set when the message exceeded the size cap and only its start was parsed. */
  oversized?: { limit: number; size: number };
  receivedAt: string;
}

export type BuiltRecord =
  | { ok: true; event: Envelope<'raw.email_received'>; message: Message }
  | { ok: false; code: string; reason: string };

/** Turns a parsed message into the `raw.email_received` record, or says why it cannot. */
export function buildRecord(input: BuildInput): BuiltRecord {
  const { mail, origin, verdict } = input;
  const notes = [...mail.problems];
  const from = person(mail.from[0]) ?? person(mail.sender[0]) ?? person(mail.replyTo[0]);
  if (!from) {
    const shown = mail.headers['from']?.[0] ?? '(none)';
    return { ok: false, code: 'NO_SENDER', reason: `no usable sender address in From "${shown}"` };
  }
  const messageId = (mail.messageId ?? syntheticMessageId(input.rawBlobId)).slice(0, 998);
  if (!mail.messageId) notes.push(`Message-ID derived from the content: ${messageId}`);
  const hints = threadHints(mail);
  const text = clip(mail.text, MAX_TEXT_CHARS, 'text', notes);
  const replyText = clip(extractReply(mail.text).reply, MAX_TEXT_CHARS, 'reply text', notes);
  if (input.oversized) {
    notes.unshift(
      `message is ${input.oversized.size} bytes, above the limit of ${input.oversized.limit}: ` +
        `only its first ${input.oversized.limit} bytes were read; the raw message is blob ${input.rawBlobId}`,
    );
  }
  // Built field by field in the schema's order (a spread into a literal takes a slow path
  // in V8); the optional fields only when set.
  const payload = {
    mailbox: origin.mailbox,
    uidValidity: origin.uidValidity,
    uid: origin.uid,
    messageId,
  } as EmailReceived;
  if (hints.inReplyTo) payload.inReplyTo = hints.inReplyTo.slice(0, 998);
  payload.references = hints.references.slice(-200).map((r) => r.slice(0, 998));
  payload.from = from;
  payload.to = people(mail.to);
  payload.cc = people(mail.cc);
  payload.subject = mail.subject.slice(0, 2000);
  payload.text = text;
  payload.replyText = replyText;
  if (mail.date) payload.date = mail.date.toISOString();
  payload.attachments = input.attachments.slice(0, 200);
  payload.rawBlobId = input.rawBlobId;
  payload.automated = { automated: verdict.automated, kind: verdict.kind, reason: verdict.reason };
  const threadKeys: EmailReceived['threadHints'] = {};
  if (hints.replyToken) threadKeys.replyToken = hints.replyToken.slice(0, 200);
  if (hints.subjectTicketNumber) threadKeys.subjectTicketNumber = hints.subjectTicketNumber;
  payload.threadHints = threadKeys;
  payload.problems = notes.slice(0, MAX_PROBLEMS).map((p) => p.slice(0, 1000));
  payload.receivedAt = input.receivedAt;
  payload.size = origin.size;
  payload.authenticationResults = mail.authenticationResults
    .slice(0, 20)
    .map((h) => h.slice(0, 4000));
  if (verdict.bouncedRecipients?.length)
    payload.bouncedRecipients = verdict.bouncedRecipients.slice(0, 100);
  if (input.oversized) payload.oversized = input.oversized;
  const event = makeEvent('raw.email_received', {
    // The same mail produced again (crash before the checkpoint, UIDVALIDITY re-scan)
    // carries the same id; ticket-store dedupes on mailbox + Message-ID anyway.
    id: deterministicId('raw.email_received', origin.mailbox.toLowerCase(), messageId),
    ticketId: null,
    source: SOURCE,
    payload,
  });
  // Thread key: the reply token, else the thread's root Message-ID, so a reply lands on
  // the partition of the mail that opened the ticket and is handled after it.
  const key = hints.replyToken ?? hints.references[0] ?? messageId;
  try {
    // Every field is bounded above as its schema bounds it, except those of withinBounds;
    // a record outside those goes through the full schema validation (and its reason).
    const trusted = withinBounds(payload);
    return { ok: true, event, message: encodeEvent(event, key, undefined, { trusted }) };
  } catch (err) {
    return { ok: false, code: 'RECORD_INVALID', reason: (err as Error).message };
  }
}

const natural = (n: number | undefined) => n === undefined || (Number.isSafeInteger(n) && n >= 0);
const fits = (s: string | undefined, max: number) => s === undefined || s.length <= max;

/**
 * The fields of the record buildRecord does not clip or check itself, within their
 * schema's bounds (UTF-16 length at most the schema's code-point maximum): the record
 * then needs no schema validation (build-record.test.ts holds the builder to that).
 */
export function withinBounds(p: EmailReceived): boolean {
  return (
    p.mailbox.length > 0 &&
    fits(p.mailbox, 320) &&
    fits(p.uidValidity, 40) &&
    natural(p.uid) &&
    natural(p.size) &&
    fits(p.rawBlobId, 200) &&
    p.attachments.every(
      (a) => fits(a.blobId, 200) && a.url === undefined && natural(a.size) && a.filename !== '',
    ) &&
    (p.bouncedRecipients ?? []).every((r) => fits(r, 320)) &&
    (p.oversized === undefined || (natural(p.oversized.limit) && natural(p.oversized.size)))
  );
}

/** A tickets.raw.dlq record for a message that cannot become an email record. */
export function deadLetter(
  origin: MessageOrigin,
  code: string,
  reason: string,
  rawBlobId: string | null,
): Message {
  return {
    key: `${origin.mailbox}:${origin.uidValidity}:${origin.uid}`,
    value: JSON.stringify({ ...origin, rawBlobId, error: { code, reason } }),
    headers: {
      'x-error-code': code,
      'x-error-message': reason.slice(0, 2000),
      'x-source': SOURCE,
      'x-source-mailbox': origin.mailbox,
      'x-source-uidvalidity': origin.uidValidity,
      'x-source-uid': String(origin.uid),
      ...(rawBlobId ? { 'x-blob-id': rawBlobId } : {}),
      'x-failed-at': new Date().toISOString(),
    },
  };
}
