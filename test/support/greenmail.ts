// GreenMail over its REST API: users created up front, mailboxes read back.
import { simpleParser, type ParsedMail } from 'mailparser';
import { stackEnv } from './env.js';

export interface GreenMailMessage {
  'Message-ID': string;
  subject: string;
  mimeMessage: string;
}

/**
 * Creates the GreenMail user (login and password = address) before mail arrives: its
 * auto-creation on first delivery races when pooled connections deliver at once, and
 * one address can end up with two mailboxes.
 */
export async function createMailUser(email: string): Promise<string> {
  const res = await fetch(`${stackEnv('GREENMAIL_API_URL')}/api/user`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, login: email, password: email }),
  });
  if (!res.ok) throw new Error(`GreenMail user ${email}: ${res.status} ${await res.text()}`);
  return email;
}

/** Every message in a GreenMail mailbox (auto-created on first delivery). */
export async function mailbox(email: string): Promise<GreenMailMessage[]> {
  const res = await fetch(
    `${stackEnv('GREENMAIL_API_URL')}/api/user/${encodeURIComponent(email)}/messages/`,
  );
  if (res.status === 404 || res.status === 400) return [];
  if (!res.ok) throw new Error(`GreenMail ${res.status}: ${await res.text()}`);
  return (await res.json()) as GreenMailMessage[];
}

export const parse = (m: GreenMailMessage): Promise<ParsedMail> => simpleParser(m.mimeMessage);
