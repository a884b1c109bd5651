import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';

// A small pool of nodemailer SMTP connections (SMTP_POOL_SIZE) that sends finished
// messages. nodemailer's own pooled transport runs every message through its Mail layer
// (plugins, a MIME tree, stream pipelines) even when it is given the raw message; that
// costs twice what the SMTP exchange costs. The protocol (EHLO, STARTTLS, AUTH, MAIL,
// RCPT, DATA, dot-stuffing, timeouts) stays nodemailer's SMTPConnection; this file only
// decides which connection carries which message, as nodemailer's pool does: a
// connection is reused until it has sent `maxMessages`, reset (RSET) after a rejected
// envelope, and dropped after any other error. It never retries: the caller does.

export interface SmtpPoolOptions {
  host: string;
  port: number;
  secure: boolean;
  user: string;
  password: string;
  size: number;
  timeoutMs: number;
  /** Messages per connection before it is replaced. */
  maxMessages: number;
}

export interface SmtpEnvelope {
  from: string;
  to: string;
}

export interface SmtpInfo {
  response: string;
  accepted: string[];
}

interface Conn {
  smtp: SMTPConnection;
  messages: number;
  dead: boolean;
  retired: boolean;
}

interface Waiter {
  resolve: (conn: Conn) => void;
  reject: (err: unknown) => void;
}

type NodemailerError = Error & { code?: string; responseCode?: number };

export function createSmtpPool(options: SmtpPoolOptions) {
  const idle: Conn[] = [];
  const waiters: Waiter[] = [];
  let open = 0;
  let closed = false;

  /** Opens, greets (STARTTLS when offered) and logs in; rejects with the first error. */
  const connect = () =>
    new Promise<Conn>((resolve, reject) => {
      const smtp = new SMTPConnection({
        host: options.host,
        port: options.port,
        secure: options.secure,
        connectionTimeout: options.timeoutMs,
        greetingTimeout: options.timeoutMs,
        socketTimeout: options.timeoutMs,
      });
      const conn: Conn = { smtp, messages: 0, dead: false, retired: false };
      let settled = false;
      const fail = (err: unknown) => {
        conn.dead = true;
        if (settled) return;
        settled = true;
        smtp.close();
        reject(err instanceof Error ? err : new Error(String(err)));
      };
      const ready = () => {
        if (settled) return;
        settled = true;
        resolve(conn);
      };
      // Errors of a connection in use reach its send callback; one lying idle is dropped.
      smtp.on('error', (err: unknown) => {
        fail(err);
        if (idle.includes(conn)) retire(conn);
      });
      smtp.once('end', () => {
        fail(Object.assign(new Error('SMTP connection closed'), { code: 'ECONNECTION' }));
        if (idle.includes(conn)) retire(conn);
      });
      smtp.connect((err?: unknown) => {
        if (err) return fail(err);
        if (!options.user) return ready();
        smtp.login({ user: options.user, pass: options.password }, (loginErr) =>
          loginErr ? fail(loginErr) : ready(),
        );
      });
    });

  /** Opens a connection for the first waiter, if there is one and room for it. */
  const serveWaiter = () => {
    if (closed || waiters.length === 0 || open >= options.size) return;
    const waiter = waiters.shift()!;
    open++;
    connect().then(waiter.resolve, (err: unknown) => {
      open--;
      waiter.reject(err);
      serveWaiter(); // each waiter gets its own attempt (and its own error)
    });
  };

  function retire(conn: Conn): void {
    if (conn.retired) return;
    conn.retired = true;
    const i = idle.indexOf(conn);
    if (i >= 0) idle.splice(i, 1);
    open--;
    conn.smtp.close();
    serveWaiter();
  }

  function release(conn: Conn): void {
    if (closed || conn.dead || conn.messages >= options.maxMessages) return retire(conn);
    const waiter = waiters.shift();
    if (waiter) waiter.resolve(conn);
    else idle.push(conn);
  }

  async function acquire(): Promise<Conn> {
    if (closed) throw Object.assign(new Error('SMTP pool closed'), { code: 'ECONNECTION' });
    for (let conn = idle.pop(); conn; conn = idle.pop()) {
      if (!conn.dead) return conn;
      retire(conn);
    }
    if (open < options.size) {
      open++;
      try {
        return await connect();
      } catch (err) {
        open--;
        serveWaiter();
        throw err;
      }
    }
    return new Promise<Conn>((resolve, reject) => waiters.push({ resolve, reject }));
  }

  return {
    /** Sends one finished message; rejects with nodemailer's error (responseCode, code). */
    async send(envelope: SmtpEnvelope, raw: string): Promise<SmtpInfo> {
      const conn = await acquire();
      return new Promise<SmtpInfo>((resolve, reject) => {
        conn.smtp.send({ from: envelope.from, to: [envelope.to] }, raw, (err, info) => {
          conn.messages++;
          if (!err) {
            release(conn);
            resolve({ response: String(info.response), accepted: info.accepted.map(String) });
            return;
          }
          const e = err as NodemailerError;
          if ((e.code === 'EENVELOPE' || e.code === 'EMESSAGE') && e.responseCode !== 421) {
            // The server refused this message, the session is fine: reset it for the next.
            if (conn.dead) retire(conn);
            else conn.smtp.reset((resetErr) => (resetErr ? retire(conn) : release(conn)));
          } else {
            retire(conn);
          }
          reject(err);
        });
      });
    },
    close(): void {
      closed = true;
      for (const waiter of waiters.splice(0)) {
        waiter.reject(Object.assign(new Error('SMTP pool closed'), { code: 'ECONNECTION' }));
      }
      for (const conn of [...idle]) {
        conn.retired = true;
        conn.smtp.quit();
      }
      idle.length = 0;
    },
  };
}
