import type { AuthenticateResult } from 'mailauth';
import { matchesAddress, splitAddress, stripPlusTag } from './addresses.js';

export const TICKET_STATUSES = [
  'open',
  'in_progress',
  'pending',
  'on_hold',
  'resolved',
  'closed',
] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];

export interface StatusCommand {
  command: 'status' | 'close' | 'reopen';
  status: TicketStatus;
}

// Only the first few non-empty lines count: a command must be deliberate, not a
// word that happens to appear in a pasted log or further down the reply.
const COMMAND_WINDOW = 3;

/** Recognizes `#status resolved`, `#close`, `#reopen` at the top of a reply. */
export function parseStatusCommand(replyText: string): StatusCommand | null {
  let seen = 0;
  for (const raw of replyText.replace(/\r\n?/g, '\n').split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    if (line.startsWith('>')) return null; // quoted text belongs to someone else
    if (++seen > COMMAND_WINDOW) return null;
    const m = line.match(/^#(status|close|reopen)\b[ \t:]*(.*)$/i);
    if (!m) continue;
    const verb = (m[1] ?? '').toLowerCase();
    if (verb === 'close') return { command: 'close', status: 'closed' };
    if (verb === 'reopen') return { command: 'reopen', status: 'open' };
    const status = (m[2] ?? '')
      .trim()
      .toLowerCase()
      .replace(/[\s-]+/g, '_');
    const known = TICKET_STATUSES.find((s) => s === status);
    return known ? { command: 'status', status: known } : null;
  }
  return null;
}

export interface AuthorizeStatusInput {
  sender: string;
  requester: string;
  /** Agent addresses and `@domain` entries. */
  agents: readonly string[];
  status: TicketStatus;
  /** mailauth's `authenticate()` result, or the message's Authentication-Results headers. */
  auth?: AuthenticateResult | { authenticationResults: readonly string[] };
  requireAuth?: boolean;
}

export interface AuthorizeStatusResult {
  allowed: boolean;
  reason: string;
}

// What a requester may do to their own ticket: close it or bring it back.
const REQUESTER_STATUSES: readonly TicketStatus[] = ['resolved', 'closed', 'open'];

/**
 * Decides whether a status change by email is allowed. A From header is trivially
 * forged, so with `requireAuth` the sender's domain must be authenticated: DKIM or
 * SPF must pass for a domain aligned with the From domain (what DMARC checks).
 */
export function authorizeStatusCommand(input: AuthorizeStatusInput): AuthorizeStatusResult {
  const sender = stripPlusTag(input.sender.trim().toLowerCase());
  const isAgent = matchesAddress(sender, input.agents);
  const isRequester = sender === stripPlusTag(input.requester.trim().toLowerCase());
  if (!isAgent && !isRequester)
    return { allowed: false, reason: `${sender} is neither the requester nor an agent` };
  if (!isAgent && !REQUESTER_STATUSES.includes(input.status)) {
    return {
      allowed: false,
      reason: `requesters may only close or reopen, not set ${input.status}`,
    };
  }
  if (input.requireAuth) {
    const domain = splitAddress(sender)?.domain ?? '';
    const verdict = input.auth
      ? authVerdict(input.auth, domain)
      : { ok: false, why: 'no authentication results' };
    if (!verdict.ok) return { allowed: false, reason: `sender not authenticated: ${verdict.why}` };
    return { allowed: true, reason: `${isAgent ? 'agent' : 'requester'}, ${verdict.why}` };
  }
  return { allowed: true, reason: isAgent ? 'agent' : 'requester of the ticket' };
}

/** Relaxed alignment (RFC 7489): same domain, or one a subdomain of the other. */
function aligned(a: string, b: string): boolean {
  const x = a.toLowerCase().replace(/\.$/, '');
  const y = b.toLowerCase().replace(/\.$/, '');
  return !!x && !!y && (x === y || x.endsWith(`.${y}`) || y.endsWith(`.${x}`));
}

function authVerdict(
  auth: NonNullable<AuthorizeStatusInput['auth']>,
  fromDomain: string,
): { ok: boolean; why: string } {
  if ('authenticationResults' in auth) return headerVerdict(auth.authenticationResults, fromDomain);
  if (auth.dmarc && auth.dmarc.status.result === 'pass' && aligned(auth.dmarc.domain, fromDomain)) {
    return { ok: true, why: 'DMARC pass' };
  }
  const dkim = auth.dkim.results.find(
    (r) => r.status.result === 'pass' && aligned(r.signingDomain, fromDomain),
  );
  if (dkim) return { ok: true, why: `DKIM pass for ${dkim.signingDomain}` };
  if (auth.spf && auth.spf.status.result === 'pass' && aligned(auth.spf.domain, fromDomain)) {
    return { ok: true, why: `SPF pass for ${auth.spf.domain}` };
  }
  return { ok: false, why: `no aligned DKIM or SPF pass for ${fromDomain}` };
}

/** Reads `dkim=pass header.d=…`, `spf=pass smtp.mailfrom=…`, `dmarc=pass header.from=…`. */
function headerVerdict(
  headers: readonly string[],
  fromDomain: string,
): { ok: boolean; why: string } {
  for (const header of headers) {
    for (const clause of header.split(';')) {
      const m = clause.trim().match(/^(dkim|spf|dmarc)\s*=\s*(\w+)/i);
      if (!m || m[2]?.toLowerCase() !== 'pass') continue;
      const method = (m[1] ?? '').toLowerCase();
      const prop =
        method === 'dkim'
          ? clause.match(/header\.[di]\s*=\s*@?([^\s;]+)/i)
          : method === 'spf'
            ? clause.match(/smtp\.mailfrom\s*=\s*(?:[^\s@;]*@)?([^\s;]+)/i)
            : clause.match(/header\.from\s*=\s*([^\s;]+)/i);
      const domain = (prop?.[1] ?? '').replace(/^.*@/, '');
      if (aligned(domain, fromDomain))
        return { ok: true, why: `${method.toUpperCase()} pass for ${domain}` };
    }
  }
  return {
    ok: false,
    why: `no aligned DKIM or SPF pass for ${fromDomain} in Authentication-Results`,
  };
}
