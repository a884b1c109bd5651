import { Transform, type TransformCallback } from 'node:stream';

const KNOWN_TRANSFER_ENCODINGS = new Set([
  '7bit',
  '8bit',
  'binary',
  'base64',
  'quoted-printable',
  'x-uuencode',
  'uuencode',
  'x-uue',
]);

// Charsets real mail uses that the WHATWG label table (TextDecoder) does not list
// but mailparser still decodes through iconv-lite / encoding-japanese.
const EXTRA_CHARSETS = new Set([
  'utf-7',
  'cp932',
  'cp949',
  'cp936',
  'cp850',
  'cp437',
  'ascii',
  'us-ascii',
  'ks_c_5601-1987',
]);

const TAIL = 256; // bytes carried between chunks so a match split across two is still seen
const MAX_TRACKED = 500; // caps memory on hostile input with thousands of parts

export function isKnownCharset(label: string): boolean {
  // `charset=3D"..."` is the same parameter seen through quoted-printable encoding.
  const l = label.toLowerCase().replace(/^3d(?=[a-z])/, '');
  if (EXTRA_CHARSETS.has(l)) return true;
  try {
    new TextDecoder(l);
    return true;
  } catch {
    return false;
  }
}

function add(set: Set<string>, v: string | undefined): void {
  if (v && set.size < MAX_TRACKED) set.add(v);
}

/**
 * What the raw bytes of a message say about its problems, chunk by chunk: the state of
 * the SourceScanner tap, and on its own the scan of a whole message held in memory (no
 * stream to set up for it).
 */
export class SourceScan {
  bytes = 0;
  readonly charsets = new Set<string>();
  readonly transferEncodings = new Set<string>();
  readonly boundaries = new Set<string>();
  readonly delimiterLines = new Set<string>();
  private tail = '';

  /** Scans the next chunk (a match split across two chunks is still seen). */
  add(chunk: Buffer): void {
    this.bytes += chunk.length;
    // latin1 maps each byte to one char, so offsets stay stable and nothing throws.
    const text = this.tail ? this.tail + chunk.toString('latin1') : chunk.toString('latin1');
    this.scan(text);
    this.tail = text.slice(-TAIL);
  }

  private scan(text: string): void {
    for (const m of text.matchAll(/charset\s*=\s*["']?([A-Za-z0-9_.:+-]+)/gi))
      add(this.charsets, m[1]?.toLowerCase());
    // Encoded words and delimiter lines need "=?" and "--": most text has neither.
    if (text.includes('=?')) {
      for (const m of text.matchAll(/=\?([^?\s]+?)(?:\*[^?]*)?\?[bq]\?/gi))
        add(this.charsets, m[1]?.toLowerCase());
    }
    for (const m of text.matchAll(/^content-transfer-encoding:[ \t]*([^\s;]*)/gim)) {
      add(this.transferEncodings, (m[1] ?? '').toLowerCase());
    }
    for (const m of text.matchAll(/boundary\s*=\s*(?:"([^"\r\n]+)"|([^\s;"]+))/gi))
      add(this.boundaries, m[1] ?? m[2]);
    if (text.includes('--')) {
      for (const m of text.matchAll(/(?:^|\n)--([^\r\n]{1,200})/g)) add(this.delimiterLines, m[1]);
    }
  }

  /** Human-readable problems seen in the raw source. */
  problems(): string[] {
    const out: string[] = [];
    for (const cs of this.charsets) if (!isKnownCharset(cs)) out.push(`unknown charset "${cs}"`);
    for (const te of this.transferEncodings) {
      if (!KNOWN_TRANSFER_ENCODINGS.has(te)) out.push(`unknown Content-Transfer-Encoding "${te}"`);
    }
    const lines = [...this.delimiterLines];
    for (const b of this.boundaries) {
      if (!lines.some((l) => l.startsWith(b)))
        out.push(`multipart boundary "${b}" never appears in the body`);
    }
    return out;
  }
}

/**
 * Pass-through tap in front of mailparser. mailparser repairs bad input silently
 * (unknown charset → raw bytes, missing boundary → one flat body), so the problems a
 * support agent should see are collected here from the raw bytes as they stream by,
 * without keeping the message in memory. It also enforces the size limit.
 */
export class SourceScanner extends Transform {
  readonly scan = new SourceScan();

  constructor(private readonly maxBytes: number) {
    super();
  }

  get bytes(): number {
    return this.scan.bytes;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.scan.bytes + chunk.length > this.maxBytes) {
      this.scan.bytes += chunk.length;
      done(new Error(`message larger than ${this.maxBytes} bytes`));
      return;
    }
    this.scan.add(chunk);
    done(null, chunk);
  }

  /** Human-readable problems seen in the raw source. */
  problems(): string[] {
    return this.scan.problems();
  }
}

// Readings of a Date header, tried in turn: each is made only when the ones before it
// failed (most dates parse as they are).
const DATE_CANDIDATES = [
  (r: string) => r,
  (r: string) => r.replace(/\([^)]*\)/g, ' ').trim(), // comments like "(PST)"
  (r: string) => r.replace(/^[A-Za-z]{3,},?\s*/, ''), // bogus weekday names
  (r: string) =>
    r
      .replace(/\([^)]*\)/g, ' ')
      .replace(/\s*:\s*/g, ':') // RFC 2822 obsolete syntax allows "09 : 55 : 06"
      .replace(/\s+/g, ' ')
      .trim(),
];

/** Parses an RFC 5322 date leniently; null when even the lenient parse fails. */
export function parseMailDate(raw: string): Date | null {
  for (const candidate of DATE_CANDIDATES) {
    const t = Date.parse(candidate(raw));
    if (!Number.isNaN(t)) {
      const d = new Date(t);
      const year = d.getUTCFullYear();
      if (year >= 1900 && year <= 2200) return d;
    }
  }
  return null;
}
