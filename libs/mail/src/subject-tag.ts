/** `[#1042]`: the tag we put in outgoing subjects so replies find their ticket. */
export function subjectTag(ticketNumber: number): string {
  return `[#${ticketNumber}]`;
}

/** The ticket number from a `[#1042]` tag anywhere in the subject, or null. */
export function parseSubjectTag(subject: string): number | null {
  const m = subject.match(/\[#(\d{1,15})\]/);
  if (!m?.[1]) return null;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? n : null;
}

// Reply/forward prefixes across the locales our customers use: English, German (AW,
// WG), Nordic (SV, VS, Vs), Dutch (Antw, Doorst), French (TR, Réf), Spanish/Portuguese
// (RV, ENC), Italian (R, RIF, I), Polish (Odp, PD), Turkish (YNT, İLT), Chinese (回复, 转发).
const PREFIX =
  /^\s*(?:(?:re|fwd?|aw|wg|sv|vs|antw|doorst|tr|réf|ref|rv|enc|rif|odp|pd|ynt|i̇lt|r|i)(?:\s*[[(]\d+[\])])?\s*[:：]|回复[:：]|答复[:：]|转发[:：]|\[#\d+\]|\[[\w.-]+\])\s*/iu;

/** Strips reply/forward prefixes and ticket/list tags, so subjects can be compared. */
export function normalizeSubject(subject: string): string {
  let s = subject;
  for (let i = 0; i < 50; i++) {
    const next = s.replace(PREFIX, '');
    if (next === s) break;
    s = next;
  }
  return s
    .replace(/\[#\d+\]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * RFC 5256 "base subject" as MailKit/jwz compute it for subject threading: strips
 * `Re:`, `Fwd:`, `Re[4]:` and `[list-name]` prefixes, counting the reply depth.
 */
export function threadableSubject(subject: string): { subject: string; replyDepth: number } {
  let rest = subject;
  let replyDepth = 0;
  for (;;) {
    rest = rest.replace(/^\s+/, '');
    if (rest.length < 3) break;
    const fwd = rest.match(/^fwd:/i);
    if (fwd) {
      rest = rest.slice(4);
      replyDepth++;
      continue;
    }
    const re = rest.match(/^re(?::|[[(](\d+)[\])]:)/i);
    if (re) {
      // A bare "Re[" without the digits-and-colon form is part of the subject.
      const close = rest[2] === '[' ? ']' : ')';
      if (rest[2] === ':' || re[0].endsWith(`${close}:`)) {
        rest = rest.slice(re[0].length);
        replyDepth += re[1] ? Number(re[1]) : 1;
        continue;
      }
    }
    const list = rest.match(/^\[[\p{L}\p{N}][\p{L}\p{N}_-]*\]/u);
    if (list) {
      rest = rest.slice(list[0].length);
      continue;
    }
    break;
  }
  const canonical = rest.replace(/\s+/g, ' ').trimEnd();
  return { subject: canonical.toLowerCase() === '(no subject)' ? '' : canonical, replyDepth };
}
