import { createRequire } from 'node:module';
import { MailParser, type HeaderLines } from 'mailparser';
import { buildMail, rawHeaders } from './build-mail.js';
import type { ParseMailResult } from './parse-mail.js';
import { SourceScan } from './source-scan.js';

// The common case without mailparser's stream machinery (about ten stream stages and
// several event-loop turns per message): a single-part text/plain or text/html mail,
// read synchronously with the very modules mailparser runs (mailsplit's MimeNode for
// the header block, mailparser's libmime, address parser and address decoding,
// libqp, iconv-lite, html-to-text), so the result is the one mailparser would give. Anything else
// (multipart, attachments, unusual charsets or encodings) returns null and goes
// through mailparser. parse-simple.test.ts compares both on every corpus message.
//
// A header block of printable ASCII without encoded words (most mail) is not even given
// to mailsplit: plainHead below splits and unfolds it as mailsplit does, reads the few
// fields it needs as mailsplit and libmime would, and plainAddresses reads the common
// address forms ("Name <a@b>", "a@b") as nodemailer's address parser would; anything
// else in either goes to those modules as before.

// Resolved from mailparser's own location: the copies it uses, whatever npm hoisted.
const fromMailparser = createRequire(createRequire(import.meta.url).resolve('mailparser'));
const fromMailsplit = createRequire(fromMailparser.resolve('@zone-eu/mailsplit'));

interface MimeNodeLike {
  headers: { getList(): HeaderLines };
  contentType: string | false;
  charset: string | false;
  encoding: string | false;
  disposition: string | false;
  flowed: boolean;
  delSp: boolean;
  multipart: string | false;
  _boundary: Buffer | false;
  addHeaderChunk(line: Buffer): void;
  parseHeaders(): void;
}
interface LibmimeLike {
  normalizeCharset(charset: string): string;
  decodeFlowed(text: string, delSp?: boolean): string;
}
interface StructuredValue {
  value: string;
  params: Record<string, string>;
}
interface MailparserLibmime {
  decodeHeader(line: string): { value?: unknown } | undefined;
  decodeWords(text: string): string;
  parseHeaderValue(text: string): StructuredValue;
}
interface IconvLike {
  decode(buf: Buffer, charset: string): string;
}

const MimeNode = fromMailsplit('./lib/mime-node.js') as new (parent: false) => MimeNodeLike;
const libmime = fromMailparser('libmime') as LibmimeLike;
const libqp = fromMailsplit('libqp') as { decode(buf: Buffer): Buffer };
const iconv = fromMailparser('iconv-lite') as IconvLike;
const { htmlToText } = fromMailparser('html-to-text') as {
  htmlToText: (this: void, html: string) => string;
};

const addressparser = fromMailparser('nodemailer/lib/addressparser') as (text: string) => unknown[];
// One instance for its (stateless) helpers: its libmime, its address decoding.
const helpers = new MailParser() as unknown as {
  libmime: MailparserLibmime;
  decodeAddresses(list: unknown[]): void;
};
const lm = helpers.libmime;

// Larger header blocks are rare and near mailsplit's own limit: let mailparser judge.
const MAX_HEADER_BYTES = 64 * 1024;
// Stateless single-byte charsets only: chunking can never change their decoding.
const SINGLE_BYTE = /^(iso-8859-\d{1,2}|windows-125\d|koi8-[ru])$/i;
const NO_CONVERSION = new Set(['ascii', 'usascii', 'utf8']);

// The header fields buildMail reads from mailparser's map, and those of them where
// mailparser keeps only the last occurrence.
const USED = new Set(['from', 'to', 'cc', 'reply-to', 'sender', 'subject', 'content-type']);
const SINGLE = new Set(['from', 'sender', 'reply-to', 'subject', 'content-type']);

const NON_ASCII = /[\u0080-\uffff]/;

interface ParsedAddress {
  name?: string;
  address?: unknown;
  group?: ParsedAddress[];
}

/** Without "=?" a string holds no encoded word: libmime's decodeWords returns it as is. */
const decodeWords = (s: string): string =>
  typeof s === 'string' && !s.includes('=?') ? s : lm.decodeWords(s);

const plainAddress = (a: ParsedAddress): boolean =>
  !(a.name || '').includes('=?') &&
  (a.address === undefined ||
    (typeof a.address === 'string' && !a.address.includes('=?') && !a.address.includes('@xn--'))) &&
  (a.group === undefined || a.group.every(plainAddress));

function trimNames(list: ParsedAddress[]): void {
  for (const a of list) {
    a.name = (a.name || '').trim();
    if (a.group) trimNames(a.group);
  }
}

/**
 * mailparser's processHeaders for the fields buildMail reads (it handles every line
 * on its own, so the others can be left out), without the HTML and text renderings
 * of addresses it makes on the side.
 */
function processHeaders(lines: HeaderLines, head: Head, plain: boolean): Map<string, unknown> {
  const map = new Map<string, unknown>();
  for (const { key, line } of lines) {
    if (!USED.has(key)) continue;
    let text: string;
    if (plain) {
      text = headerValue(line); // ASCII, no encoded word: decodeHeader's value as it is
    } else {
      const decoded = ((lm.decodeHeader(line) ?? {}).value ?? '') as { toString(): string };
      const trimmed = decoded.toString().trim();
      // ASCII reads the same as binary and as UTF-8: no round trip through a Buffer.
      text = !NON_ASCII.test(trimmed) ? trimmed : Buffer.from(trimmed, 'binary').toString();
    }
    let value: unknown = text;
    if (key === 'content-type') {
      // The one Content-Type line, read already: decodeWords has nothing to decode in it.
      if (plain && head.structured) {
        map.set(key, [head.structured]);
        continue;
      }
      const structured = lm.parseHeaderValue(text);
      if (structured.value) structured.value = decodeWords(structured.value);
      for (const k of Object.keys(structured.params ?? {})) {
        try {
          structured.params[k] = decodeWords(structured.params[k]!);
        } catch {
          // kept as is, as mailparser does
        }
      }
      value = structured;
    } else if (key === 'subject') {
      try {
        value = decodeWords(text);
      } catch {
        // kept as is, as mailparser does
      }
    } else {
      const list = (plain && plainAddresses(text)) || (addressparser(text) as ParsedAddress[]);
      // What mailparser's decodeAddresses does when no name or address holds an encoded
      // word and no domain is punycode: trim the names.
      if (list.every(plainAddress)) trimNames(list);
      else helpers.decodeAddresses(list);
      value = { value: list };
    }
    if (!value) continue;
    const seen = map.get(key) as unknown[] | undefined;
    if (seen) seen.push(value);
    else map.set(key, [value]);
  }
  for (const [key, values] of map) {
    const list = values as unknown[];
    if (SINGLE.has(key)) map.set(key, list[list.length - 1]);
    else if (list.length === 1) map.set(key, list[0]);
  }
  return map;
}

/** What parseSimple needs of the top node: mailsplit's MimeNode fields and header lines. */
interface Head extends Pick<
  MimeNodeLike,
  'contentType' | 'charset' | 'encoding' | 'disposition' | 'flowed' | 'delSp' | 'multipart'
> {
  lines: HeaderLines;
  boundary: boolean;
  /** libmime's parse of the one Content-Type line, when there is exactly one. */
  structured: StructuredValue | null;
}

// Printable ASCII, tab and line breaks: a block that reads the same as binary, as UTF-8
// and after mailsplit's UTF-8 round trip.
const PLAIN_BLOCK = /^[\t\r\n\x20-\x7e]*$/;
const FOLD = /(?:\r?\n|\r)[ \t]*/g;

/** libmime's decodeHeader(line).value, trimmed, for a line that holds no line break but folds. */
function headerValue(line: string): string {
  const unfolded = line.includes('\n') || line.includes('\r') ? line.replace(FOLD, ' ') : line;
  const colon = unfolded.indexOf(':');
  // decodeHeader's /^\s*([^:]+):(.*)$/ on the trimmed line: a key of one character at least.
  return colon > 0 && unfolded.slice(0, colon).trim() !== ''
    ? unfolded.slice(colon + 1).trim()
    : '';
}

const lowerKey = (line: string) => {
  const colon = line.indexOf(':');
  return colon > 0 ? line.slice(0, colon).toLowerCase().trim() : '';
};

/**
 * The header block as mailsplit's MimeNode reads it (Headers._parseHeaders and
 * MimeNode.parseHeaders), for a block of printable ASCII without encoded words, without
 * an mbox or HTTP preamble and without Content-Disposition; null for anything else.
 */
export function plainHead(block: Buffer): Head | null {
  const text = block.toString('latin1');
  if (!PLAIN_BLOCK.test(text) || text.includes('=?')) return null;
  const raw = text.replace(/[\r\n]+$/, '').split(/\r?\n/);
  if (/^(From|POST) /i.test(raw[0] ?? '')) return null;
  const lines: { key: string; line: string }[] = [];
  let contentType: string | null = null;
  let contentTypes = 0;
  let encodingLine: string | null = null;
  for (let i = 0; i < raw.length; i++) {
    let line = raw[i]!;
    while (i + 1 < raw.length && (raw[i + 1]!.startsWith(' ') || raw[i + 1]!.startsWith('\t'))) {
      line += '\r\n' + raw[++i]!;
    }
    const key = lowerKey(line);
    if (key === 'content-disposition') return null;
    if (key === 'content-type') {
      contentTypes++;
      contentType ??= line;
    } else if (key === 'content-transfer-encoding') {
      encodingLine ??= line;
    }
    lines.push({ key, line });
  }
  const structured = lm.parseHeaderValue(
    contentType === null ? 'text/plain' : headerValue(contentType),
  );
  const params = structured.params;
  const type = (structured.value || '').toLowerCase().trim() || false;
  const encoding = encodingLine === null ? '' : headerValue(encodingLine);
  if (encoding.includes('(')) return null; // a comment: mailsplit strips it
  const flowed = (params.format ?? '').toLowerCase().trim() === 'flowed';
  const slash = type ? type.indexOf('/') : -1;
  const major = slash >= 0 && type ? type.slice(0, slash) : '';
  return {
    lines,
    contentType: type,
    charset: params.charset || false,
    encoding: encoding.toLowerCase().trim(),
    disposition: false,
    flowed,
    delSp: flowed && (params.delsp ?? '').toLowerCase().trim() === 'yes',
    multipart: (type && major === 'multipart' && type.slice(slash + 1)) || false,
    boundary: Boolean(params.boundary),
    structured: contentTypes === 1 ? structured : null,
  };
}

/** The top node read by mailsplit itself (and plainHead compared with it in tests). */
export function mimeHead(block: Buffer): Head {
  const node = new MimeNode(false);
  node.addHeaderChunk(block);
  node.parseHeaders();
  return {
    lines: node.headers.getList(),
    contentType: node.contentType,
    charset: node.charset,
    encoding: node.encoding,
    disposition: node.disposition,
    flowed: node.flowed,
    delSp: node.delSp,
    multipart: node.multipart,
    boundary: Boolean(node._boundary),
    structured: null,
  };
}

// An address as "a@b" or "Display Name <a@b>": no quotes, comments, groups, escapes,
// brackets or encoded words, which nodemailer's address parser would have to read.
const ADDR = "[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+";
const BARE = new RegExp(`^${ADDR}$`);
const NAMED = new RegExp(`^([A-Za-z0-9 .'_+-]*?) *<(${ADDR})>$`);

/**
 * nodemailer's addressparser for a list of plain addresses (address-parser.test.ts
 * compares both on generated lists); null when any entry has another form.
 */
export function plainAddresses(text: string): ParsedAddress[] | null {
  const out: ParsedAddress[] = [];
  for (const part of text.split(',')) {
    const item = part.trim();
    if (BARE.test(item)) {
      out.push({ address: item, name: '' });
      continue;
    }
    const m = NAMED.exec(item);
    if (!m || m[1]!.includes('  ') || m[1]!.startsWith(' ')) return null;
    out.push({ address: m[2]!, name: m[1]! });
  }
  return out;
}

/** End of the header block as mailsplit finds it: after the first empty line. */
function headerEnd(source: Buffer): number {
  let lineStart = 0;
  for (;;) {
    const nl = source.indexOf(0x0a, lineStart);
    if (nl < 0) return source.length; // no empty line: all of it is header
    const len = nl + 1 - lineStart;
    if (len === 1 || (len === 2 && source[lineStart] === 0x0d)) return nl + 1;
    lineStart = nl + 1;
    if (lineStart > MAX_HEADER_BYTES) return -1;
  }
}

/** mailsplit's decoders run whole: base64 only when padding is at the very end. */
function decodeTransfer(body: Buffer, encoding: string): Buffer | null {
  if (encoding === 'quoted-printable') return libqp.decode(body);
  if (encoding !== 'base64') return body;
  const b64 = body.toString('ascii').replace(/[^a-zA-Z0-9+/=]/g, '');
  const pad = b64.indexOf('=');
  if (pad >= 0 && /[^=]/.test(b64.slice(pad))) return null; // padded segments mid-stream
  return Buffer.from(b64, 'base64');
}

function decodeCharset(content: Buffer, charset: string): string | null {
  if (NO_CONVERSION.has(charset.toLowerCase().replace(/[^a-z0-9]+/g, ''))) {
    return content.toString();
  }
  const normalized = libmime.normalizeCharset(charset);
  if (!SINGLE_BYTE.test(normalized)) return null;
  return iconv.decode(content, normalized);
}

/**
 * Parses a single-part text message synchronously, or returns null when the message
 * needs the full parser (which then gives the same answer it always did).
 */
export function parseSimple(source: Buffer, maxBytes: number): ParseMailResult | null {
  if (source.length === 0 || source.length > maxBytes) return null;
  const end = headerEnd(source);
  if (end <= 0) return null;
  const block = source.subarray(0, end);
  const fast = plainHead(block);
  const node = fast ?? mimeHead(block);
  const contentType = node.contentType || 'text/plain';
  if (node.multipart || node.boundary) return null;
  if (contentType !== 'text/plain' && contentType !== 'text/html') return null;
  if (node.disposition && node.disposition !== 'inline') return null; // an attachment
  const lines = node.lines;
  const raw = rawHeaders(lines);
  if (Object.keys(raw).length === 0) return null; // mailparser names the problem

  let content = decodeTransfer(source.subarray(end), node.encoding || '');
  if (!content) return null;
  if (node.flowed) {
    content = Buffer.from(libmime.decodeFlowed(content.toString('binary'), node.delSp), 'binary');
  }
  const decoded = decodeCharset(content, node.charset || 'utf-8');
  if (decoded === null) return null;
  const body = decoded.replace(/\r?\n/g, '\n');

  let text = body;
  let html: string | null = null;
  if (contentType === 'text/html' && body) {
    try {
      text = htmlToText(body);
    } catch {
      return null; // mailparser reports this one as an error
    }
    html = body;
  }
  // source.length <= maxBytes: checked on entry.
  const scanner = new SourceScan();
  scanner.add(source);
  const headers = processHeaders(lines, node, fast !== null);
  return { ok: true, mail: buildMail(headers, raw, text, html, [], scanner) };
}
