// IMAP responses off the wire (RFC 3501 §7, RFC 9051 §7): lines, each possibly ending
// in a literal `{n}` (or `~{n}`, RFC 3516) followed by n raw bytes and more of the line.
// Only what the bulk FETCH needs is interpreted: tagged results, BYE, continuations,
// response codes and the UID and BODY[] of FETCH responses.

/** One whole response: its text with each literal left as its `{n}` marker, and the literals. */
export interface ImapResponse {
  text: string;
  literals: (Buffer | TooLarge)[];
}

/** A literal above the reader's cap: its bytes were skipped, only its size is known. */
export interface TooLarge {
  tooLarge: number;
}

export interface ResponseReaderOptions {
  /** Literals above this are skipped (counted, never buffered). */
  maxLiteralBytes: number;
  /** A line (without its literals) longer than this is a protocol error. */
  maxLineBytes?: number;
}

/** The wire broke the grammar (or a limit): the connection cannot be trusted further. */
export class ImapProtocolError extends Error {
  readonly code = 'IMAP_PROTOCOL';
  readonly retriable = true;
  constructor(message: string) {
    super(message);
    this.name = 'ImapProtocolError';
  }
}

const LF = 0x0a;
const LITERAL_END = /(~?)\{(\d+)\}\r?$/;

/**
 * Turns TCP chunks into whole responses, whatever the chunk boundaries (inside a line,
 * a CRLF, a literal marker or a literal). Literal bytes are copied once into a buffer
 * of their own (never a view of a chunk that would keep the chunk alive).
 */
export class ResponseReader {
  private line: Buffer[] = [];
  private lineBytes = 0;
  private segments: string[] = [];
  private literals: (Buffer | TooLarge)[] = [];
  // The literal being read: its buffer (null when skipped), bytes still to come.
  private literal: Buffer | null = null;
  private literalSize = 0;
  private literalLeft = -1;
  private readonly maxLineBytes: number;

  constructor(
    private readonly onResponse: (r: ImapResponse) => void,
    private readonly o: ResponseReaderOptions,
  ) {
    this.maxLineBytes = o.maxLineBytes ?? 1024 * 1024;
  }

  /** True between responses: nothing of a response is buffered. */
  get idle(): boolean {
    return this.lineBytes === 0 && this.segments.length === 0 && this.literalLeft < 0;
  }

  push(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.literalLeft >= 0) {
        pos = this.readLiteral(chunk, pos);
        continue;
      }
      const nl = chunk.indexOf(LF, pos);
      if (nl < 0) {
        this.appendLine(chunk.subarray(pos));
        return;
      }
      const piece = chunk.subarray(pos, nl + 1);
      pos = nl + 1;
      let whole: Buffer;
      if (this.lineBytes === 0) {
        whole = piece;
      } else {
        this.appendLine(piece);
        whole = Buffer.concat(this.line, this.lineBytes);
        this.line = [];
        this.lineBytes = 0;
      }
      // Up to the CRLF (a bare LF is tolerated, as most clients do).
      const end = whole.length >= 2 && whole[whole.length - 2] === 0x0d ? 2 : 1;
      this.endOfLine(whole.toString('latin1', 0, whole.length - end));
    }
  }

  private appendLine(piece: Buffer): void {
    // A copy: the chunk it is a view of is reused by nobody, but may be large.
    this.line.push(Buffer.from(piece));
    this.lineBytes += piece.length;
    if (this.lineBytes > this.maxLineBytes)
      throw new ImapProtocolError(`response line over ${this.maxLineBytes} bytes`);
  }

  private endOfLine(text: string): void {
    const m = text.endsWith('}') ? LITERAL_END.exec(text) : null;
    this.segments.push(text);
    if (m) {
      const size = Number(m[2]);
      if (!Number.isSafeInteger(size)) throw new ImapProtocolError(`bad literal size ${m[2]}`);
      this.literalSize = size;
      this.literalLeft = size;
      this.literal = size <= this.o.maxLiteralBytes ? Buffer.allocUnsafe(size) : null;
      if (size === 0) this.endLiteral();
      return;
    }
    const response: ImapResponse = {
      text: this.segments.length === 1 ? text : this.segments.join(''),
      literals: this.literals,
    };
    this.segments = [];
    this.literals = [];
    this.onResponse(response);
  }

  private readLiteral(chunk: Buffer, pos: number): number {
    const n = Math.min(this.literalLeft, chunk.length - pos);
    if (this.literal) chunk.copy(this.literal, this.literalSize - this.literalLeft, pos, pos + n);
    this.literalLeft -= n;
    if (this.literalLeft === 0) this.endLiteral();
    return pos + n;
  }

  private endLiteral(): void {
    this.literals.push(this.literal ?? { tooLarge: this.literalSize });
    this.literal = null;
    this.literalLeft = -1;
  }
}

/** A tagged result or an untagged status (`* BYE …`, `* OK [UIDVALIDITY 5] …`). */
export interface Status {
  /** The tag, `*` for untagged, `+` for a continuation request. */
  tag: string;
  /** OK, NO, BAD, BYE, PREAUTH; or the keyword of other untagged data (EXISTS, FETCH, CAPABILITY). */
  kind: string;
  /** The response code's text inside `[...]`, when there is one. */
  code: string | null;
  /** The rest of the line (human-readable text; for data, what follows the keyword). */
  text: string;
}

const STATUS = new Set(['OK', 'NO', 'BAD', 'BYE', 'PREAUTH']);

export function statusOf(r: ImapResponse): Status {
  const t = r.text;
  const sp = t.indexOf(' ');
  const tag = sp < 0 ? t : t.slice(0, sp);
  if (tag === '+') return { tag, kind: '', code: null, text: sp < 0 ? '' : t.slice(sp + 1) };
  let rest = sp < 0 ? '' : t.slice(sp + 1);
  // Untagged data starting with a number: `* 12 EXISTS`, `* 12 FETCH (...)`.
  const num = tag === '*' ? /^(\d+) /.exec(rest) : null;
  if (num) rest = rest.slice(num[0].length);
  const sp2 = rest.indexOf(' ');
  const kind = (sp2 < 0 ? rest : rest.slice(0, sp2)).toUpperCase();
  let text = sp2 < 0 ? '' : rest.slice(sp2 + 1);
  let code: string | null = null;
  if (STATUS.has(kind) && text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close > 0) {
      code = text.slice(1, close);
      text = text.slice(close + 1).trimStart();
    }
  }
  return { tag, kind, code, text };
}

/** What a FETCH response says of a message: its UID and BODY[] when it carried them. */
export interface FetchData {
  seq: number;
  uid: number | null;
  /** undefined: no BODY[] in this response; null: NIL; TooLarge: skipped by the cap. */
  body: Buffer | TooLarge | null | undefined;
}

const FETCH_HEAD = /^\* (\d+) FETCH \(/i;
const BODY_NAME = /^BODY\[\](<\d+>)?$/i;

/** The FETCH data of an untagged FETCH response; null for any other response. */
export function fetchDataOf(r: ImapResponse): FetchData | null {
  const head = FETCH_HEAD.exec(r.text);
  if (!head) return null;
  const p = new AttReader(r, head[0].length);
  const out: FetchData = { seq: Number(head[1]), uid: null, body: undefined };
  for (;;) {
    p.spaces();
    if (p.peek() === ')') break;
    const name = p.attName();
    p.spaces();
    if (name.toUpperCase() === 'UID') {
      const v = p.atom();
      if (!/^\d+$/.test(v)) throw new ImapProtocolError(`bad UID ${v}`);
      out.uid = Number(v);
    } else if (BODY_NAME.test(name)) {
      out.body = p.nstring();
    } else {
      p.skipValue();
    }
  }
  return out;
}

/** Walks a FETCH att list; literals are taken in order as their markers come. */
class AttReader {
  private next = 0;
  constructor(
    private readonly r: ImapResponse,
    private pos: number,
  ) {}

  peek(): string {
    if (this.pos >= this.r.text.length) throw new ImapProtocolError('FETCH response cut short');
    return this.r.text[this.pos]!;
  }

  spaces(): void {
    while (this.r.text[this.pos] === ' ') this.pos++;
  }

  /**
   * `UID`, `FLAGS`, `BODY[HEADER.FIELDS (FROM TO)]<0>`: brackets may hold spaces. Ends
   * at a `{` or `"` too: GreenMail sends `BODY[]<0>{18}`, without the space.
   */
  attName(): string {
    const t = this.r.text;
    const start = this.pos;
    while (this.pos < t.length) {
      const c = t[this.pos]!;
      if (c === '[') {
        const close = t.indexOf(']', this.pos);
        if (close < 0) throw new ImapProtocolError('unclosed [ in FETCH response');
        this.pos = close + 1;
      } else if (c === ' ' || c === '(' || c === ')' || c === '{' || c === '"') {
        break;
      } else {
        this.pos++;
      }
    }
    if (this.pos === start) throw new ImapProtocolError(`FETCH item expected at ${start}`);
    return t.slice(start, this.pos);
  }

  atom(): string {
    const t = this.r.text;
    const start = this.pos;
    while (this.pos < t.length && !' ()'.includes(t[this.pos]!)) this.pos++;
    return t.slice(start, this.pos);
  }

  /** NIL, a quoted string or a literal. */
  nstring(): Buffer | TooLarge | null {
    const c = this.peek();
    if (c === '"') return Buffer.from(this.quoted(), 'latin1');
    if (c === '{' || c === '~') return this.literal();
    const a = this.atom();
    if (a.toUpperCase() === 'NIL') return null;
    throw new ImapProtocolError(`string expected, got ${a.slice(0, 40)}`);
  }

  skipValue(): void {
    const c = this.peek();
    if (c === '"') this.quoted();
    else if (c === '{' || c === '~') this.literal();
    else if (c === '(') {
      this.pos++;
      for (;;) {
        this.spaces();
        if (this.peek() === ')') break;
        this.skipValue();
      }
      this.pos++;
    } else if (this.atom() === '') throw new ImapProtocolError(`value expected at ${this.pos}`);
  }

  private quoted(): string {
    const t = this.r.text;
    let out = '';
    let i = this.pos + 1;
    for (; i < t.length && t[i] !== '"'; i++) {
      if (t[i] === '\\') i++;
      out += t[i] ?? '';
    }
    if (i >= t.length) throw new ImapProtocolError('unterminated quoted string');
    this.pos = i + 1;
    return out;
  }

  private literal(): Buffer | TooLarge {
    const t = this.r.text;
    const close = t.indexOf('}', this.pos);
    if (close < 0) throw new ImapProtocolError('bad literal marker');
    this.pos = close + 1;
    const value = this.r.literals[this.next++];
    if (value === undefined) throw new ImapProtocolError('literal marker without literal');
    return value;
  }
}

/** `OK [UIDVALIDITY 3857529045] …` → '3857529045'. */
export function codeArgument(code: string | null, name: string): string | null {
  if (!code) return null;
  const sp = code.indexOf(' ');
  if ((sp < 0 ? code : code.slice(0, sp)).toUpperCase() !== name) return null;
  return sp < 0 ? '' : code.slice(sp + 1);
}

/** An IMAP string argument: quoted when it can be, else null (send it as a literal). */
export function quoteArg(s: string): string | null {
  // eslint-disable-next-line no-control-regex
  if (/[\r\n\0]|[^\x00-\x7f]/.test(s)) return null;
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
