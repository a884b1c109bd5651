import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { MailParser, type AttachmentStream, type HeaderLines, type MessageText } from 'mailparser';
import type { MailAddress } from './addresses.js';
import { buildMail, rawHeaders } from './build-mail.js';
import { MailParseError } from './errors.js';
import { parseSimple } from './parse-simple.js';
import { SourceScanner } from './source-scan.js';

export interface AttachmentInfo {
  filename: string | null;
  contentType: string;
  contentId: string | null;
  inline: boolean;
  partId: string | null;
}

export interface ParsedAttachment extends AttachmentInfo {
  size: number;
  /** Hex SHA-256 of the decoded content: the content address in the blob store. */
  sha256: string;
  /** The content, only when no `onAttachment` sink consumed the stream. */
  content?: Buffer;
  /** Whatever the sink returned (e.g. a blob id). */
  ref?: string;
}

/**
 * Receives each attachment as a stream while the message is parsed, so a 25 MB
 * attachment goes straight to the blob store and is never held in memory at all.
 * The hash and size are computed by the parser on the same pass.
 */
export type AttachmentSink = (
  info: AttachmentInfo,
  content: Readable,
) => Promise<string | undefined | void>;

export interface ParseMailOptions {
  onAttachment?: AttachmentSink;
  /** Reject sources above this size (default 50 MiB). */
  maxBytes?: number;
  /** Give up after this long (default 30 s): a pathological message must not hang the poller. */
  timeoutMs?: number;
  /**
   * Read single-part text mail without mailparser's streams (same result, a fraction of
   * the time; see parse-simple.ts). Default true; false forces the full parser.
   */
  simple?: boolean;
}

export interface ParsedMail {
  from: MailAddress[];
  to: MailAddress[];
  cc: MailAddress[];
  replyTo: MailAddress[];
  sender: MailAddress[];
  subject: string;
  text: string;
  hasHtml: boolean;
  html: string | null;
  attachments: ParsedAttachment[];
  messageId: string | null;
  inReplyTo: string | null;
  references: string[];
  date: Date | null;
  /** Top-level content type, lower-cased, e.g. `multipart/report`. */
  contentType: string;
  /** Parameters of the top-level content type (`report-type`, ...). */
  contentTypeParams: Record<string, string>;
  /** Every top-level header, lower-cased name → unfolded raw values in order. */
  headers: Record<string, string[]>;
  authenticationResults: string[];
  problems: string[];
  size: number;
}

export type ParseMailResult = { ok: true; mail: ParsedMail } | { ok: false; error: MailParseError };

const DEFAULT_MAX_BYTES = 50 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 30_000;

/** Parses one message. Never throws: a message we cannot use comes back as `{ ok: false }`. */
export async function parseMail(
  source: Buffer | Readable,
  opts: ParseMailOptions = {},
): Promise<ParseMailResult> {
  try {
    if (Buffer.isBuffer(source) && opts.simple !== false) {
      const simple = simpleOrNull(source, opts.maxBytes ?? DEFAULT_MAX_BYTES);
      if (simple) return simple;
    }
    return await parseOrFail(source, opts);
  } catch (err) {
    const error =
      err instanceof MailParseError
        ? err
        : new MailParseError('PARSE_FAILED', errorText(err), { cause: err });
    return { ok: false, error };
  }
}

/** Whatever surprises the shortcut (it never should), the full parser gets its turn. */
function simpleOrNull(source: Buffer, maxBytes: number): ParseMailResult | null {
  try {
    return parseSimple(source, maxBytes);
  } catch {
    return null;
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function parseOrFail(
  source: Buffer | Readable,
  opts: ParseMailOptions,
): Promise<ParseMailResult> {
  if (Buffer.isBuffer(source) && source.length === 0)
    throw new MailParseError('EMPTY_MESSAGE', 'source is empty');
  const scanner = new SourceScanner(opts.maxBytes ?? DEFAULT_MAX_BYTES);
  const parser = new MailParser({
    checksumAlgo: 'sha256',
    skipImageLinks: true,
    skipTextLinks: true,
  });
  const input = Buffer.isBuffer(source) ? Readable.from([source]) : source;

  let headers: Map<string, unknown> = new Map();
  let headerLines: HeaderLines = [];
  let text = '';
  let html: string | null = null;
  const attachments: ParsedAttachment[] = [];
  const pending: Promise<void>[] = [];
  let sinkError: unknown = null;

  parser.on('headers', (h: Map<string, unknown>) => (headers = h));
  parser.on('headerLines', (l: HeaderLines) => (headerLines = l));
  parser.on('data', (data: AttachmentStream | MessageText) => {
    if (data.type === 'text') {
      text = data.text ?? '';
      html = typeof data.html === 'string' ? data.html : null;
      return;
    }
    pending.push(
      consumeAttachment(data, opts.onAttachment).then(
        (a) => void attachments.push(a),
        (err: unknown) => {
          sinkError ??= err;
        },
      ),
    );
  });

  const done = new Promise<void>((resolve, reject) => {
    const fail = (code: 'SOURCE_ERROR' | 'PARSE_FAILED' | 'TOO_LARGE') => (err: Error) =>
      reject(new MailParseError(code, err.message, { cause: err }));
    input.once('error', fail('SOURCE_ERROR'));
    scanner.once('error', (err: Error) =>
      fail(scanner.bytes > (opts.maxBytes ?? DEFAULT_MAX_BYTES) ? 'TOO_LARGE' : 'SOURCE_ERROR')(
        err,
      ),
    );
    parser.once('error', fail('PARSE_FAILED'));
    parser.once('end', () => resolve());
    parser.resume();
  });
  input.pipe(scanner).pipe(parser);

  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(
        new MailParseError(
          'TIMEOUT',
          `parsing took longer than ${opts.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`,
        ),
      );
    }, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  });
  try {
    await Promise.race([done.then(() => Promise.all(pending)), timeout]);
  } catch (err) {
    input.unpipe(scanner);
    scanner.destroy();
    parser.destroy();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  if (sinkError) {
    throw new MailParseError('ATTACHMENT_SINK_FAILED', errorText(sinkError), { cause: sinkError });
  }
  if (scanner.bytes === 0) throw new MailParseError('EMPTY_MESSAGE', 'source is empty');

  const raw = rawHeaders(headerLines);
  if (Object.keys(raw).length === 0) {
    throw new MailParseError('NOT_A_MESSAGE', 'no header fields found');
  }
  return { ok: true, mail: buildMail(headers, raw, text, html, attachments, scanner) };
}

async function consumeAttachment(
  data: AttachmentStream,
  sink: AttachmentSink | undefined,
): Promise<ParsedAttachment> {
  const info: AttachmentInfo = {
    filename: data.filename ?? null,
    contentType: (data.contentType || 'application/octet-stream').toLowerCase(),
    contentId: data.contentId ?? null,
    inline: data.contentDisposition === 'inline',
    partId: (data as { partId?: string }).partId ?? null,
  };
  const stream = data.content as Readable;
  let content: Buffer | undefined;
  let ref: string | undefined;
  try {
    if (sink) {
      ref = (await sink(info, stream)) ?? undefined;
    } else {
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      content = Buffer.concat(chunks);
    }
  } finally {
    // A sink that stopped early must not stall the parser: drain what is left.
    if (!stream.readableEnded) {
      stream.resume();
      await finished(stream).catch(() => undefined);
    }
    data.release();
  }
  const out: ParsedAttachment = { ...info, size: data.size, sha256: data.checksum };
  if (content) out.content = content;
  if (ref !== undefined) out.ref = ref;
  return out;
}
