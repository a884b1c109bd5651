import { domainToASCII } from 'node:url';
import type { ComposedMail } from '@mailroom/mail';
import MimeNode from 'nodemailer/lib/mime-node/index.js';
import { foldLines, isPlainText } from 'nodemailer/lib/mime-funcs/index.js';
import { encode as qpEncode, wrap as qpWrap } from 'nodemailer/lib/qp/index.js';

// The finished RFC 5322 message of a composed mail, handed to nodemailer as `raw`.
// nodemailer's own composition (MailComposer: a tree of MIME nodes streamed through
// transforms) costs more CPU than the SMTP exchange itself; our mails always have the
// same shape (text + HTML alternative, a few headers), so they are written in one pass.
// Header values that need encoding go through nodemailer's encoder (MimeNode.encodeHeaderValue:
// addresses, RFC 2047 words, message ids) and folding, and non-ASCII bodies through its
// quoted-printable encoder: the header lines are the bytes MailComposer writes and the
// parsed message is the same (raw-mail.test.ts composes both and compares them).

const CRLF = '\r\n';

// Fast paths for the values nodemailer's encoder leaves as they are (the common case:
// ASCII names, subjects and addresses); raw-mail.test.ts checks each against it.
/** Printable ASCII without `"` and without anything that looks like an encoded word. */
const PLAIN_TEXT = /^[\x20\x21\x23-\x7e]*$/;
const PLAIN_NAME = /^[\w ]*$/;
const ATOM = "[a-z0-9!#$%&'*+/=?^_`{|}~-]+";
const PLAIN_ADDRESS = new RegExp(`^${ATOM}(?:\\.${ATOM})*@[a-z0-9-]+(?:\\.[a-z0-9-]+)+$`);
const PLAIN_MSG_ID = /^<[\x21-\x3b\x3d\x3f-\x7e]+>$/;

type Address = { name: string; address: string };

function encodeValue(key: string, value: string | Address): string {
  if (typeof value !== 'string') {
    if (PLAIN_NAME.test(value.name) && PLAIN_ADDRESS.test(value.address)) {
      return value.name ? `${value.name} <${value.address}>` : value.address;
    }
  } else if (key === 'Message-ID' || key === 'In-Reply-To' || key === 'References') {
    if (PLAIN_MSG_ID.test(value)) return value;
  } else if (key === 'Reply-To') {
    if (PLAIN_ADDRESS.test(value)) return value;
  } else if (PLAIN_TEXT.test(value) && !value.includes('=?')) {
    return value;
  }
  return MimeNode.encodeHeaderValue(key, value);
}

function header(key: string, value: string | Address): string {
  const line = `${key}: ${encodeValue(key, value)}`;
  return line.length <= 76 ? line : foldLines(line, 76);
}

/**
 * The SMTP envelope form of an address, as nodemailer's Mail layer writes it: an
 * internationalized domain in punycode when the local part is ASCII (else SMTPUTF8).
 */
export function envelopeAddress(address: string): string {
  if (PLAIN_ADDRESS.test(address)) return address;
  const at = address.lastIndexOf('@');
  const local = address.slice(0, at);
  if (at < 0 || /[\u0080-\uffff]/.test(local)) return address;
  return `${local}@${domainToASCII(address.slice(at + 1)) || address.slice(at + 1)}`;
}

/** A line longer than RFC 5322 allows (998 octets; the text is ASCII and CRLF here). */
function hasLongLine(text: string): boolean {
  for (let start = 0; ;) {
    const end = text.indexOf('\n', start);
    if ((end < 0 ? text.length : end - 1) - start > 998) return true;
    if (end < 0) return false;
    start = end + 1;
  }
}

/**
 * 7bit when the text is plain ASCII in lines of at most 998 octets (RFC 5322, 2045), else
 * quoted-printable. nodemailer switches to QP above 76 characters already; our templates
 * have longer lines, and encoding every mail costs CPU for no reader's benefit.
 */
function part(type: 'text/plain' | 'text/html', content: string): string {
  const text = content.replace(/\r?\n|\r/g, CRLF);
  const plain = isPlainText(text) && !hasLongLine(text);
  const body = plain ? text : qpWrap(qpEncode(text), 76);
  return (
    `Content-Type: ${type}; charset=utf-8${CRLF}` +
    `Content-Transfer-Encoding: ${plain ? '7bit' : 'quoted-printable'}${CRLF}${CRLF}` +
    body +
    (body.endsWith(CRLF) ? '' : CRLF)
  );
}

/**
 * The message as sent: headers in nodemailer's order, multipart/alternative of text and
 * HTML. The boundary contains `=_`, which quoted-printable never produces and 7bit text
 * is checked for, so no body line can be mistaken for it.
 */
export function rawMail(mail: ComposedMail, date = new Date()): string {
  let boundary = `=_mailroom_${mail.messageId.replace(/[^A-Za-z0-9]+/g, '').slice(-32)}`;
  while (mail.text.includes(boundary) || mail.html.includes(boundary)) boundary += '_';
  const lines = Object.entries(mail.headers).map(([key, value]) => header(key, value));
  lines.push(header('From', mail.from), header('To', mail.to), header('Reply-To', mail.replyTo));
  if (mail.inReplyTo) lines.push(header('In-Reply-To', mail.inReplyTo));
  if (mail.references?.length) lines.push(header('References', mail.references.join(' ')));
  lines.push(
    header('Subject', mail.subject),
    header('Message-ID', mail.messageId),
    `Date: ${date.toUTCString().replace(/GMT/, '+0000')}`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/alternative;${CRLF} boundary="${boundary}"`,
  );
  return (
    lines.join(CRLF) +
    CRLF +
    CRLF +
    `--${boundary}${CRLF}` +
    part('text/plain', mail.text) +
    `${CRLF}--${boundary}${CRLF}` +
    part('text/html', mail.html) +
    `${CRLF}--${boundary}--${CRLF}`
  );
}
