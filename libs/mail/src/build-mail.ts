import type { AddressObject, HeaderLines } from 'mailparser';
import { normalizeAddresses, type MailAddress } from './addresses.js';
import type { ParsedAttachment, ParsedMail } from './parse-mail.js';
import { parseMailDate } from './source-scan.js';

// Turns what mailparser emitted into our normalized message and lists everything that
// was wrong with it; mailparser itself silently repairs (e.g. a bad Date becomes "now").

const MSG_ID = /<[^<>\s]+>/g;

export function rawHeaders(lines: HeaderLines): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const { key, line } of lines) {
    const colon = line.indexOf(':');
    const rest = colon >= 0 ? line.slice(colon + 1) : '';
    const value = (rest.includes('\n') ? rest.replace(/\r?\n[ \t]+/g, ' ') : rest).trim();
    (out[key.trim().toLowerCase()] ??= []).push(value);
  }
  return out;
}

export function buildMail(
  headers: Map<string, unknown>,
  raw: Record<string, string[]>,
  text: string,
  html: string | null,
  attachments: ParsedAttachment[],
  scanner: { readonly bytes: number; problems(): string[] },
): ParsedMail {
  const problems = scanner.problems();

  const messageId = firstMessageId(raw['message-id']?.[0]);
  if (!raw['message-id']) problems.push('no Message-ID header');
  else if (!messageId) problems.push(`malformed Message-ID "${raw['message-id'][0]}"`);

  let date: Date | null = null;
  const rawDate = raw['date']?.[0];
  if (rawDate === undefined) problems.push('no Date header');
  else if (!(date = parseMailDate(rawDate))) problems.push(`unparseable Date "${rawDate}"`);

  const from = addressesOf(headers, 'from');
  if (!raw['from']) problems.push('no From header');
  else if (!from.some((a) => a.address))
    problems.push(`no usable address in From "${raw['from'][0]}"`);
  if (raw['from'] && raw['from'].length > 1) problems.push('more than one From header');

  const ct = headers.get('content-type') as
    { value?: string; params?: Record<string, string> } | undefined;
  const contentType = (ct?.value ?? 'text/plain').toLowerCase();
  const contentTypeParams = Object.fromEntries(
    Object.entries(ct?.params ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]),
  );
  if (contentType.startsWith('multipart/') && !contentTypeParams['boundary']) {
    problems.push(`${contentType} without a boundary parameter`);
  }
  if (!text.trim() && !html && attachments.length === 0) problems.push('empty body');

  const subjectHeader = headers.get('subject');
  return {
    from,
    to: addressesOf(headers, 'to'),
    cc: addressesOf(headers, 'cc'),
    replyTo: addressesOf(headers, 'reply-to'),
    sender: addressesOf(headers, 'sender'),
    subject: typeof subjectHeader === 'string' ? subjectHeader : (raw['subject']?.[0] ?? ''),
    text,
    hasHtml: html !== null,
    html,
    attachments,
    messageId,
    inReplyTo: firstMessageId(raw['in-reply-to']?.join(' ')),
    references: [...new Set((raw['references'] ?? []).join(' ').match(MSG_ID) ?? [])],
    date,
    contentType,
    contentTypeParams,
    headers: raw,
    authenticationResults: raw['authentication-results'] ?? [],
    problems: [...new Set(problems)],
    size: scanner.bytes,
  };
}

function addressesOf(headers: Map<string, unknown>, key: string): MailAddress[] {
  return normalizeAddresses(headers.get(key) as AddressObject | undefined);
}

function firstMessageId(value: string | undefined): string | null {
  if (!value) return null;
  const m = value.match(MSG_ID);
  if (m?.[0]) return m[0];
  // Some MUAs omit the angle brackets; keep the id if it still looks like one.
  const bare = value.trim();
  return /^[^\s<>]+@[^\s<>]+$/.test(bare) ? `<${bare}>` : null;
}
