import type { ComposedMail } from '@mailroom/mail';
import { envelopeAddress, rawMail } from './raw-mail.js';
import { createSmtpPool } from './smtp-pool.js';

export interface MailerOptions {
  host: string;
  port: number;
  secure: boolean;
  user: string;
  password: string;
  poolSize: number;
  timeoutMs: number;
}

export interface SendResult {
  /** The server's final reply, e.g. `250 OK queued as 4F1A2`. */
  response: string;
  accepted: string[];
}

export interface Mailer {
  send(mail: ComposedMail): Promise<SendResult>;
  close(): void;
}

/** An SMTP failure as data: permanent (5xx: dead-letter) or not (4xx, connection: retry). */
export class SmtpSendError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly permanent: boolean,
    readonly responseCode: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SmtpSendError';
  }
}

interface NodemailerLikeError {
  code?: string;
  responseCode?: number;
  permanent?: boolean;
  response?: string;
  message?: string;
}

/**
 * RFC 5321: 5yz is a permanent rejection (except 503, a sequence error of our client);
 * 4yz and anything without a reply (refused, reset, timeout) may pass later.
 */
export function classifySmtpError(err: unknown): SmtpSendError {
  const e = (typeof err === 'object' && err !== null ? err : {}) as NodemailerLikeError;
  const code = e.responseCode;
  const permanent =
    e.permanent === true ||
    (e.permanent === undefined && code !== undefined && code >= 500 && code !== 503);
  const detail = (e.response ?? e.message ?? String(err)).slice(0, 500);
  return new SmtpSendError(
    permanent ? 'SMTP_REJECTED' : 'SMTP_UNAVAILABLE',
    `${e.code ?? 'SMTP'}${code ? ` ${code}` : ''}: ${detail}`,
    permanent,
    code,
    { cause: err },
  );
}

/** Pooled SMTP connections (SMTP_POOL_SIZE) sending the messages rawMail writes. */
export function createMailer(options: MailerOptions): Mailer {
  const pool = createSmtpPool({
    host: options.host,
    port: options.port,
    secure: options.secure,
    user: options.user,
    password: options.password,
    size: options.poolSize,
    timeoutMs: options.timeoutMs,
    maxMessages: 500,
  });
  return {
    send: async (mail) => {
      try {
        const envelope = { from: mail.envelope.from, to: envelopeAddress(mail.envelope.to) };
        return await pool.send(envelope, rawMail(mail));
      } catch (err) {
        throw classifySmtpError(err);
      }
    },
    close: () => pool.close(),
  };
}
