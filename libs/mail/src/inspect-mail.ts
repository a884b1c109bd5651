import type { Readable } from 'node:stream';
import {
  detectAutomated,
  type AutomatedKind,
  type DetectAutomatedOptions,
} from './detect-automated.js';
import { parseMail } from './parse-mail.js';
import { extractReply } from './reply-extract.js';
import { threadHints, type ThreadHints } from './thread-hints.js';

export interface MailInspection {
  ok: boolean;
  /** Set when the message could not be parsed at all (the caller dead-letters it). */
  error: { code: string; reason: string; retriable: boolean } | null;
  messageId: string | null;
  subject: string;
  from: { address: string; name: string }[];
  date: string | null;
  automated: boolean;
  automatedKind: AutomatedKind | null;
  automatedReason: string | null;
  bouncedRecipients: string[];
  replyText: string;
  quoted: boolean;
  signatureRemoved: boolean;
  threadHints: ThreadHints;
  attachments: { name: string | null; type: string; size: number; sha256: string }[];
  problems: string[];
}

const EMPTY_HINTS: ThreadHints = {
  replyToken: null,
  subjectTicketNumber: null,
  inReplyTo: null,
  references: [],
};

/**
 * Everything the pipeline decides about one message, as plain JSON. Never throws:
 * an unparseable message comes back with `ok: false` and the reason.
 */
export async function inspectMail(
  source: Buffer | Readable,
  opts: DetectAutomatedOptions = {},
): Promise<MailInspection> {
  try {
    const parsed = await parseMail(source);
    if (!parsed.ok) {
      const { code, reason, retriable } = parsed.error;
      return {
        ok: false,
        error: { code, reason, retriable },
        messageId: null,
        subject: '',
        from: [],
        date: null,
        automated: false,
        automatedKind: null,
        automatedReason: null,
        bouncedRecipients: [],
        replyText: '',
        quoted: false,
        signatureRemoved: false,
        threadHints: EMPTY_HINTS,
        attachments: [],
        problems: [`${code}: ${reason}`],
      };
    }
    const mail = parsed.mail;
    const verdict = detectAutomated(mail, opts);
    const reply = extractReply(mail.text);
    return {
      ok: true,
      error: null,
      messageId: mail.messageId,
      subject: mail.subject,
      from: mail.from,
      date: mail.date ? mail.date.toISOString() : null,
      automated: verdict.automated,
      automatedKind: verdict.kind,
      automatedReason: verdict.reason,
      bouncedRecipients: verdict.bouncedRecipients ?? [],
      replyText: reply.reply,
      quoted: reply.quoted,
      signatureRemoved: reply.signatureRemoved,
      threadHints: threadHints(mail),
      attachments: mail.attachments.map((a) => ({
        name: a.filename,
        type: a.contentType,
        size: a.size,
        sha256: a.sha256,
      })),
      problems: mail.problems,
    };
  } catch (err) {
    // parseMail already turns bad input into data; this guards our own bugs so a
    // caller's loop never dies on one message.
    const reason = err instanceof Error ? err.message : String(err);
    return {
      ok: false,
      error: { code: 'INTERNAL', reason, retriable: false },
      messageId: null,
      subject: '',
      from: [],
      date: null,
      automated: false,
      automatedKind: null,
      automatedReason: null,
      bouncedRecipients: [],
      replyText: '',
      quoted: false,
      signatureRemoved: false,
      threadHints: EMPTY_HINTS,
      attachments: [],
      problems: [`INTERNAL: ${reason}`],
    };
  }
}
