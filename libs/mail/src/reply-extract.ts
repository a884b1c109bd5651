import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import EmailReplyParser from 'email-reply-parser';

export interface ExtractedReply {
  /** What the person wrote: quotes, quote headers and signature removed. */
  reply: string;
  /** True when quoted earlier correspondence was removed. */
  quoted: boolean;
  signatureRemoved: boolean;
}

// Quote headers email-reply-parser misses. Each is anchored at a line start; the
// "On ... wrote:" family may wrap over up to three lines in narrow clients.
const WROTE =
  '(wrote|writes|a écrit|schrieb|escribió|ha scritto|scrisse|schreef|skrev|kirjoitti|escreveu|napisał\\(a\\)|napisał|napisała|написал\\(а\\)|написал|написала|írta|yazdı|έγραψε|scrise|napsal|пише|写道|寫道|のメッセージ)';
const QUOTE_HEADERS: RegExp[] = [
  new RegExp(
    `^[ \\t]*[-—]*[ \\t]*(on|le|am|el|il|op|den|em|w dniu|dne|в|el día|pe)\\b[^\\n]{0,200}(\\n[^\\n]{0,200}){0,3}?${WROTE}[^\\n]{0,40}:?[ \\t]*[-—]*[ \\t]*$`,
    'imu',
  ),
  new RegExp(`^[^\\n>]{0,200}${WROTE}[ \\t]*:[ \\t]*$`, 'imu'),
  /^[ \t]*-{2,}[ \t]*(original message|original nachricht|ursprüngliche nachricht|message d'origine|mensaje original|messaggio originale|oorspronkelijk bericht|oprindelig meddelelse|opprinnelig melding|originalmeddelande|alkuperäinen viesti|mensagem original|wiadomość oryginalna|исходное сообщение|původní zpráva)[ \t]*-{2,}/imu,
  /^[ \t]*-{2,}[ \t]*(forwarded message|weitergeleitete nachricht|message transféré|mensaje reenviado)[ \t]*-{2,}/imu,
  /^[ \t]*(begin forwarded message|anfang der weitergeleiteten nachricht|début du message réexpédié)[ \t]*:/imu,
  /^[ \t]*_{10,}[ \t]*\n[ \t]*\*?(from|von|de|fra|från|van|da|od|от|lähettäjä|feladó)\*?[ \t]*:/imu,
  // Outlook header block without a separator line: From/Von/De ... followed by
  // Sent/Date/Gesendet, optionally introduced by a timestamp line ("Message du : 12/12/2016 13:20").
  /^(?:[^\n]*\d{1,2}[:h]\d{2}[^\n]*\n)?[ \t]*\*?(from|von|de|fra|från|van|da|od|от|lähettäjä|feladó)\*?[ \t]*:[^\n]*\n(?:[^\n]*\n){0,2}?[ \t]*\*?(sent|date|gesendet|datum|envoyé|enviado|inviato|verzonden|sendt|skickat|wysłane|отправлено|lähetetty|data|date d'envoi|to|an|à|para|a|aan|til|till)\*?[ \t]*:/imu,
];

// Every quote header above holds a ':', a '--' or one of the WROTE words: a text with
// none of them holds no quote header (and skips the seven searches, twice). Part of the
// shortcut, so reply-extract.test.ts compares it with the searches themselves.
const QUOTE_HEADER_HINT = new RegExp(`:|--|${WROTE}`, 'iu');

const WROTE_HEADERS = QUOTE_HEADERS.slice(0, 2);
const OUTLOOK_HEADERS = QUOTE_HEADERS.slice(2);

const SIGNATURE_DELIMITER = /^(-- ?|__+|—— ?)$/;
const DEVICE_SIGNATURE =
  /^(sent from my |sent from (outlook|mail|yahoo|samsung|gmail)|sent with |get outlook for |envoyé de mon |envoyé depuis |gesendet von meinem |enviado desde mi |enviado do meu |inviato da |verzonden met |skickat från |sendt fra |lähetetty |wysłane z |отправлено с )/i;
const SIGN_OFF =
  /^(best|kind|warm|many thanks and)?[ ]*(regards|wishes|cheers|thanks|thank you|sincerely|cordialement|bien à vous|mit freundlichen grüßen|viele grüße|liebe grüße|saludos|cumprimentos|atentamente|distinti saluti|cordiali saluti|met vriendelijke groet|med vänliga hälsningar|mvh|pozdrawiam|с уважением)[,.!]?$/i;

/**
 * Extracts what the person wrote above the quoted conversation. Starts from
 * email-reply-parser's fragments (it handles bottom posts and `>` blocks) and adds
 * the quote headers and signatures it misses in other languages and clients.
 */
export function extractReply(text: string, options: { shortcut?: boolean } = {}): ExtractedReply {
  try {
    return extract(text, options.shortcut ?? true);
  } catch {
    // The library is regex based; never let one odd message fail the pipeline.
    return { reply: text.trim(), quoted: false, signatureRemoved: false };
  }
}

function extract(input: string, shortcut: boolean): ExtractedReply {
  const original = input.replace(/\r\n?/g, '\n').replace(/^\uFEFF/, '');
  // What is cut from the text holds no ':', '--' or word the text did not hold.
  const search = !shortcut || QUOTE_HEADER_HINT.test(original);
  const pre = precut(original, search);
  let quoted = pre !== original;
  let signatureRemoved = false;

  const fragments = fragmentsOf(pre, shortcut);
  const kept: string[] = [];
  for (const f of fragments) {
    const content = f.getContent();
    if (!f.isHidden() || (f.isSignature() && !f.isQuoted() && isContentNotSignature(content))) {
      kept.push(content);
      continue;
    }
    if (!content.trim()) continue;
    if (f.isQuoted()) quoted = true;
    else if (f.isSignature()) signatureRemoved = true;
    else quoted = true;
  }
  let body = kept.join('\n');

  const cut = earliestQuoteHeader(body, QUOTE_HEADERS, search);
  if (cut !== null) {
    body = body.slice(0, cut);
    quoted = true;
  }
  body = stripTrailingQuote(body, () => (quoted = true));
  const sig = stripSignature(body);
  if (sig.trim() !== body.trim()) signatureRemoved = true;
  return { reply: sig.trim(), quoted, signatureRemoved };
}

// The library's own regex lists (the module instance it uses, so a change made through
// its setters is seen here too): the shortcut below must know what the library would find.
interface LibraryRegexes {
  quoteHeadersRegex: RegExp[];
  signatureRegex: RegExp[];
}
const library = (
  (await import(
    pathToFileURL(
      join(dirname(createRequire(import.meta.url).resolve('email-reply-parser')), 'regex.js'),
    ).href
  )) as { default: LibraryRegexes }
).default;

/**
 * One regex per flag set that matches where any of `regexes` does. For single lines
 * (`lines`), m is dropped: a line holds no line break for it to act on.
 */
function anyOf(regexes: readonly RegExp[], lines: boolean): RegExp[] {
  const byFlags = new Map<string, string[]>();
  for (const re of regexes) {
    // Back-references and named groups would change meaning inside one alternation.
    if (/\\[1-9k]|\(\?</.test(re.source.replace(/\(\?<[=!]/g, ''))) return [...regexes];
    const flags = lines ? re.flags.replace('m', '') : re.flags;
    byFlags.set(flags, [...(byFlags.get(flags) ?? []), `(?:${re.source})`]);
  }
  return [...byFlags].map(([flags, sources]) => new RegExp(sources.join('|'), flags));
}

const stateless = (regexes: readonly RegExp[]) => regexes.every((re) => !re.global && !re.sticky);
const LINE_SIGNATURES = anyOf(library.signatureRegex, true);
// Quote headers anchored per line (m) are found in the whole text; the others can
// only match a line on its own, which is how the library tests them too (a line below a
// blank one).
const TEXT_HEADERS = anyOf(library.quoteHeadersRegex, false);
const LINE_HEADERS = anyOf(
  library.quoteHeadersRegex.filter((re) => !re.multiline),
  true,
);
const SHORTCUT_SAFE = stateless(library.signatureRegex) && stateless(library.quoteHeadersRegex);

interface FragmentLike {
  getContent(): string;
  isHidden(): boolean;
  isSignature(): boolean;
  isQuoted(): boolean;
}

/**
 * email-reply-parser's fragments. When no line is quoted, no line is a signature and no
 * quote header is anywhere (what most new mail is), the library makes one fragment of
 * the whole text with each line's trailing white space removed: built here directly,
 * without its per-character string reversals (reply-extract.test.ts compares both).
 */
function fragmentsOf(text: string, shortcut: boolean): FragmentLike[] {
  if (!shortcut || !SHORTCUT_SAFE || /^\s*>/m.test(text)) {
    return new EmailReplyParser().read(text).getFragments();
  }
  const lines = text.split('\n');
  const trimmed: string[] = [];
  for (const line of lines) {
    const t = line.replace(/\s+$/, '');
    trimmed.push(t);
    if (LINE_SIGNATURES.some((re) => re.test(line) || (t !== line && re.test(t))))
      return new EmailReplyParser().read(text).getFragments();
    // The library tests a line for a quote header only below a blank line.
    const belowBlank = trimmed.length > 1 && trimmed[trimmed.length - 2] === '';
    if (belowBlank && LINE_HEADERS.some((re) => re.test(t)))
      return new EmailReplyParser().read(text).getFragments();
  }
  const joined = trimmed.join('\n');
  if (TEXT_HEADERS.some((re) => re.test(text) || (joined !== text && re.test(joined))))
    return new EmailReplyParser().read(text).getFragments();
  const content = joined.replace(/^\n/, '');
  const empty = trimmed.every((l) => l === '');
  return [new PlainFragment(content, empty)];
}

/** The one fragment of an unquoted text, as the library would make it. */
class PlainFragment implements FragmentLike {
  constructor(
    private readonly content: string,
    private readonly empty: boolean,
  ) {}
  getContent(): string {
    return this.content;
  }
  isHidden(): boolean {
    return this.empty;
  }
  isSignature(): boolean {
    return false;
  }
  isQuoted(): boolean {
    return false;
  }
}

/**
 * Cuts at a quote header before the library sees the text, when nothing but quoted
 * lines follows it: the library would otherwise split a wrapped "On …\nwrote:"
 * header and leave half of it in the reply. Outlook-style header blocks carry no
 * `>` markers, so everything below them is the previous message.
 */
function precut(text: string, search: boolean): string {
  const outlook = earliestQuoteHeader(text, OUTLOOK_HEADERS, search);
  let cut = outlook;
  const wrote = earliestQuoteHeader(text, WROTE_HEADERS, search);
  if (wrote !== null && (cut === null || wrote < cut)) {
    // Interleaved (bottom-posted) answers keep the header; a header that introduces
    // a mostly quoted remainder (wrapped quote lines lose their `>`) is cut.
    const { quotedLines, total } = quoteShare(text.slice(wrote).split('\n').slice(1));
    if (total - quotedLines <= 3 || quotedLines / total >= 0.6) cut = wrote;
  }
  return cut === null ? text : text.slice(0, cut);
}

/**
 * Counts quoted lines below a header, up to a signature delimiter. An unquoted line
 * right after a quoted one is a quote line the sender's client re-wrapped.
 */
function quoteShare(lines: readonly string[]): { quotedLines: number; total: number } {
  let quotedLines = 0;
  let total = 0;
  let prevQuoted = false;
  for (const line of lines) {
    if (SIGNATURE_DELIMITER.test(line.trimEnd())) break;
    if (!line.trim()) continue;
    total++;
    const isQuoted = /^\s*>/.test(line) || prevQuoted;
    if (isQuoted) quotedLines++;
    prevQuoted = /^\s*>\s*\S/.test(line);
  }
  return { quotedLines, total: Math.max(total, 1) };
}

// Markdown rules ("----", "====") and "Sent from my desk, …" prose are not signatures.
function isContentNotSignature(content: string): boolean {
  const first = content.trim().split('\n')[0]?.trim() ?? '';
  if (/^([-=*_])\1{3,}$/.test(first)) return true;
  const lines = content.trim().split('\n');
  return (
    lines.length === 1 &&
    /^sent from my\b/i.test(first) &&
    (first.split(/\s+/).length > 7 || /,/.test(first))
  );
}

function earliestQuoteHeader(
  body: string,
  patterns: readonly RegExp[],
  search: boolean,
): number | null {
  if (!search) return null;
  let best: number | null = null;
  for (const re of patterns) {
    const m = re.exec(body);
    // A header on the very first line is the person quoting with nothing above it;
    // the library already dealt with that case, so only cut below some content.
    if (m && m.index > 0 && body.slice(0, m.index).trim() && (best === null || m.index < best))
      best = m.index;
  }
  return best;
}

/** Removes a trailing block of `>` lines (quote without header). */
function stripTrailingQuote(body: string, onQuote: () => void): string {
  const lines = body.replace(/\s+$/, '').split('\n');
  let end = lines.length;
  while (end > 0 && /^\s*>/.test(lines[end - 1] ?? '')) end--;
  if (end === lines.length || end === 0) return body;
  onQuote();
  return lines.slice(0, end).join('\n');
}

/** Removes `-- ` signatures, "Sent from my …" lines and a closing sign-off + name. */
function stripSignature(body: string): string {
  const lines = body.replace(/\s+$/, '').split('\n');
  for (let i = lines.length - 1; i > 0; i--) {
    const line = (lines[i] ?? '').trimEnd();
    if (SIGNATURE_DELIMITER.test(line) && lines.length - i <= 12)
      return lines.slice(0, i).join('\n');
  }
  let end = lines.length;
  // Trailing blank lines and separator rules left behind by the quote cut.
  while (end > 1 && /^[\s\-_=*~]*$/.test(lines[end - 1] ?? '')) end--;
  const last = (lines[end - 1] ?? '').trim();
  if (
    end > 1 &&
    DEVICE_SIGNATURE.test(last) &&
    last.split(/\s+/).length <= 7 &&
    !last.includes(',')
  ) {
    end--;
  }
  // A sign-off ("Regards,") followed by at most two short name lines closes the message.
  for (let i = Math.max(1, end - 4); i < end; i++) {
    if (
      SIGN_OFF.test((lines[i] ?? '').trim()) &&
      lines.slice(i + 1, end).every((l) => l.trim().length <= 40)
    ) {
      return lines.slice(0, i).join('\n');
    }
  }
  return lines.slice(0, end).join('\n');
}
