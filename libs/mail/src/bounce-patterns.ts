// Phrases real MTAs put in non-delivery reports that lack proper DSN headers. They are
// generalized from many servers (Postfix, Exim, Sendmail, qmail, Exchange, Notes,
// Domino, Courier, SES, Japanese and Russian carriers...), never from a single sample,
// and are only trusted together with a second signal (see detect-automated.ts).

const BOUNCE_SUBJECT = new RegExp(
  [
    'undeliver(ed|able)',
    'returned mail',
    'returning message to sender',
    'mail delivery (failed|failure|status|system|subsystem|error)',
    'delivery (status )?(notification|notice|report)',
    'delivery status\\b',
    'deliver(y|ies)? (has )?(failed|failure|delayed|problem)',
    '(permanent|temporary) delivery failure',
    '(failure|failed) (notice|delivery)',
    'failure delivery',
    'mail (system error|failure|could not be delivered|failed)',
    '(message|mail) (could not|couldn.t|can ?not) be delivered',
    'message delivery has failed',
    'could not send (message|mail)',
    'warning:? .*delayed',
    'delayed mail',
    'postmaster notify',
    'error sending your mail',
    'message you sent blocked',
    'nondeliverable',
    'non remis',
    'non recapitabile',
    'non distribu',
    'unzustellbar',
    'nicht zustellbar',
    'onbestelbaar',
    'no se puede entregar',
    'не доставлен',
    'недоставленн',
    '配信できません',
    'エラー通知',
    '配送エラー',
    'loop alert',
    'are not member',
  ].join('|'),
  'i',
);

const BOUNCE_BODY = new RegExp(
  [
    'this is the mail system at host',
    'created automatically by mail delivery software',
    'could not be delivered to (one or more|the following|all) (of its )?recipients?',
    '(your )?message (could not|couldn.t|cannot|can.t|was not|wasn.t) (be )?delivered',
    "i'm sorry to have to inform you",
    'delivery to the following recipients? (failed|has been delayed)',
    'delivery has failed to these recipients',
    'did not reach (some or all of )?the (intended )?recipients?',
    'following addresses? had (permanent )?(fatal )?errors',
    'transcript of session follows',
    'this is the qmail-send program',
    'permanent error',
    'unable to deliver',
    'delivery (has )?failed',
    'delivery to .{0,80} (failed|has failed|was unsuccessful)',
    'undeliverable',
    'final-recipient:',
    'diagnostic-code:',
    'action: (failed|delayed)',
    'status: [45]\\.\\d+\\.\\d+',
    '\\b[45][0-9][0-9][ -][45]\\.\\d{1,3}\\.\\d{1,3}\\b',
    'user unknown|unknown user|no such user|mailbox (unavailable|not found|full|is full)',
    'recipient address rejected',
    'message (was )?(rejected|blocked|returned)',
    'returned to (the )?sender',
    'not (a )?member of',
    'duplicated message-id',
    '"notificationtype"\\s*:\\s*"(bounce|complaint)"',
    '"bouncetype"\\s*:',
    'feedback-type:',
    'this is an automatically generated delivery status notification',
    'could not (be )?deliver',
    'unzustellbar|konnte nicht zugestellt',
    'n.a pas pu .tre (remis|distribu)',
    'не (может быть )?доставлен',
    '送信できませんでした|配信できませんでした|届きませんでした|宛先不明',
  ].join('|'),
  'i',
);

const AUTO_REPLY_SUBJECT =
  /^\s*(auto(matic|matische|matisk|matisch)?[ -_]?(reply|respon[sd]e?|respons|antwort|svar|antwoord)\b|out of (the )?office|ooo\b|abwesenheit|r[ée]ponse automatique|respuesta autom[áa]tica|risposta automatica|fuera de la oficina|absence du bureau)/i;

// Bounce bodies can be huge (the returned message is often quoted in full); the
// explanation is always near the top.
const BODY_WINDOW = 16_000;

/** Why this looks like a non-delivery report, or null. */
export function bounceEvidence(subject: string, text: string): string | null {
  const subj = subject.match(BOUNCE_SUBJECT);
  if (subj) return `bounce subject "${subj[0]}"`;
  const body = text.slice(0, BODY_WINDOW).match(BOUNCE_BODY);
  if (body) return `bounce text "${body[0].trim()}"`;
  return null;
}

export function bounceSubject(subject: string): boolean {
  return BOUNCE_SUBJECT.test(subject);
}

export function bounceBody(text: string): boolean {
  return BOUNCE_BODY.test(text.slice(0, BODY_WINDOW));
}

/**
 * Machine-readable delivery reports that no person writes by hand: RFC 3464 fields
 * rendered into the text, or an SES/SNS bounce notification.
 */
export function machineReport(
  text: string,
): { kind: 'bounce' | 'feedback_report' | 'bulk'; reason: string } | null {
  const head = text.slice(0, BODY_WINDOW);
  const sns = head.match(/"notificationType"\s*:\s*"(\w+)"/);
  if (sns) {
    const type = sns[1] ?? '';
    const kind = type === 'Bounce' ? 'bounce' : type === 'Complaint' ? 'feedback_report' : 'bulk';
    return { kind, reason: `SES ${type} notification` };
  }
  if (/^\s*final-recipient:/im.test(head) && /^\s*(action|status):/im.test(head)) {
    return { kind: 'bounce', reason: 'delivery-status fields in the text' };
  }
  return null;
}

const ABUSE_SUBJECT =
  /\b(abuse|spam|complaint) (report|about message)|\bcomplaint about\b|\bfeedback report\b|\bforensic report\b/i;
const EMBEDDED_HEADERS =
  /^[> \t]*(from|date|to|subject|message-id):.*\n[> \t]*(from|date|to|subject|message-id):/im;

/** An abuse complaint that quotes the offending message (pre-ARF feedback loops). */
export function looksLikeAbuseComplaint(subject: string, text: string): boolean {
  return ABUSE_SUBJECT.test(subject) && EMBEDDED_HEADERS.test(text.slice(0, BODY_WINDOW));
}

export function isAutoReplySubject(subject: string): boolean {
  return AUTO_REPLY_SUBJECT.test(subject);
}

const ADDR = "[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)+";

const ORIGINAL_MARKER =
  /^[ \t-]*(original message|message headers follow|headers? of the original|included is a copy|the original message (was|headers)|this is a copy|received:|return-path:|from:\s)/im;

/**
 * The recipients a bounce reports as failed. DSN fields are authoritative; the
 * Postfix/qmail (`<addr>:`) and Exim (indented bare address) layouts are the fallback.
 */
export function extractBouncedRecipients(
  text: string,
  failedHeaders: readonly string[] = [],
): string[] {
  const found = new Set<string>();
  const add = (a: string | undefined): void => {
    if (a) found.add(a.toLowerCase());
  };
  for (const h of failedHeaders) for (const m of h.matchAll(new RegExp(ADDR, 'g'))) add(m[0]);
  const body = text.slice(0, BODY_WINDOW * 4);
  for (const m of body.matchAll(
    new RegExp(`^\\s*final-recipient:\\s*(?:rfc822\\s*;)?\\s*<?(${ADDR})`, 'gim'),
  ))
    add(m[1]);
  if (found.size === 0) {
    for (const m of body.matchAll(new RegExp(`^\\s*<(${ADDR})>:`, 'gm'))) add(m[1]);
  }
  for (const m of body.matchAll(new RegExp(`"emailAddress"\\s*:\\s*"(${ADDR})"`, 'g'))) add(m[1]);
  if (found.size > 0) return [...found];
  // Free-form reports: only look above the returned copy of the original message,
  // whose own From/To addresses must not be mistaken for failed recipients.
  const cut = body.search(ORIGINAL_MARKER);
  const report = cut > 0 ? body.slice(0, cut) : body;
  for (const m of report.matchAll(new RegExp(`^[ \\t>]*<?(${ADDR})>?(?:[ \\t.:;]|$)`, 'gm')))
    add(m[1]);
  if (found.size === 0) {
    for (const m of report.matchAll(new RegExp(`\\b(?:to|for|recipient:?)\\s+<(${ADDR})>`, 'gi')))
      add(m[1]);
  }
  return [...found];
}
