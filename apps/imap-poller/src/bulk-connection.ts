import net from 'node:net';
import tls from 'node:tls';
import {
  ResponseReader,
  codeArgument,
  quoteArg,
  statusOf,
  type ImapResponse,
  type Status,
} from './imap-response-reader.js';

/** Where and as whom: the fields of a mailbox's config that a connection needs. */
export interface ImapEndpoint {
  host: string;
  port: number;
  /** Implicit TLS; otherwise STARTTLS whenever the server offers it (as imapflow does). */
  secure: boolean;
  user: string;
  password?: string | undefined;
  accessToken?: string | undefined;
  /** TLS options beyond the defaults (tests: a self-signed server). */
  tls?: tls.ConnectionOptions;
}

/** An IMAP failure with a stable code; all are retriable (the window is retried from the checkpoint). */
export class ImapCommandError extends Error {
  readonly retriable = true;
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ImapCommandError';
  }
}

// Until the folder is open; then only silence while we are reading counts (see below).
const OPEN_TIMEOUT_MS = 60_000;
const SOCKET_TIMEOUT_MS = 5 * 60_000;

interface Pending {
  tag: string;
  resolve: (s: Status) => void;
  reject: (err: Error) => void;
  onUntagged: ((r: ImapResponse) => void) | undefined;
  onContinue: ((s: Status) => void) | undefined;
}

/**
 * A plain IMAP connection of our own: one command at a time, responses through
 * ResponseReader. Used for the bulk FETCH only; everything else stays on imapflow.
 */
export class BulkConnection {
  private socket: net.Socket | tls.TLSSocket | null = null;
  private reader: ResponseReader;
  private pending: Pending | null = null;
  private seq = 0;
  private failure: Error | null = null;
  private paused = false;
  private greeting: ((s: Status) => void) | null = null;
  // Between the tagged OK of STARTTLS and the handshake the server must be silent.
  private startTlsTag: string | null = null;
  private injected = false;
  capabilities = new Set<string>();
  /** UIDVALIDITY of the folder EXAMINE opened. */
  uidValidity: string | null = null;

  constructor(
    private readonly ep: ImapEndpoint,
    maxLiteralBytes: number,
  ) {
    this.reader = new ResponseReader((r) => this.onResponse(r), { maxLiteralBytes });
  }

  /** Connects, upgrades to TLS as configured, logs in and opens `folder` read-only. */
  async open(folder: string): Promise<void> {
    const timer = setTimeout(
      () => this.fail(new ImapCommandError('IMAP_TIMEOUT', 'IMAP open timed out')),
      OPEN_TIMEOUT_MS,
    );
    try {
      await this.openSteps(folder);
    } catch (err) {
      // Half open is of no use: no LOGOUT dance on close.
      this.fail(err instanceof Error ? err : new Error(String(err)));
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  private async openSteps(folder: string): Promise<void> {
    const greeting = await new Promise<Status>((resolve, reject) => {
      this.greeting = resolve;
      this.pending = { tag: '', resolve, reject, onUntagged: undefined, onContinue: undefined };
      this.attach(
        this.ep.secure
          ? tls.connect({ ...this.tlsOptions(), host: this.ep.host, port: this.ep.port })
          : net.connect({ host: this.ep.host, port: this.ep.port }),
      );
    });
    if (greeting.kind === 'BYE')
      throw new ImapCommandError('IMAP_BYE', `server refused: ${greeting.text}`);
    this.takeCapabilities(greeting);
    if (this.capabilities.size === 0) await this.command('CAPABILITY');
    if (!this.ep.secure && this.capabilities.has('STARTTLS')) await this.startTls();
    if (greeting.kind !== 'PREAUTH') await this.login();
    await this.command(`EXAMINE ${this.astring(folder)}`, (r) => {
      const s = statusOf(r);
      const v = s.tag === '*' && s.kind === 'OK' ? codeArgument(s.code, 'UIDVALIDITY') : null;
      if (v !== null) this.uidValidity = v;
    });
    if (this.uidValidity === null)
      throw new ImapCommandError('IMAP_PROTOCOL', 'EXAMINE gave no UIDVALIDITY');
  }

  /**
   * Runs one command; resolves with its tagged OK, rejects on NO, BAD, BYE or a broken
   * connection. Untagged responses meanwhile go to `onUntagged`.
   */
  command(
    text: string,
    onUntagged?: (r: ImapResponse) => void,
    onContinue?: (s: Status) => void,
  ): Promise<Status> {
    if (this.failure) return Promise.reject(this.failure);
    if (!this.socket || this.pending) throw new Error('BulkConnection: one command at a time');
    const tag = `B${++this.seq}`;
    return new Promise<Status>((resolve, reject) => {
      this.pending = { tag, resolve, reject, onUntagged, onContinue };
      this.write(`${tag} ${text}\r\n`);
    });
  }

  write(data: string): void {
    this.socket?.write(data);
  }

  /** Backpressure: stop reading from the server until resume(). */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.socket?.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.socket?.resume();
  }

  /** LOGOUT when the connection is between commands, else just closed. */
  async close(): Promise<void> {
    const socket = this.socket;
    if (!socket) return;
    if (!this.failure && !this.pending && this.reader.idle) {
      const bye = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      await Promise.race([
        this.command('LOGOUT').catch(() => undefined),
        new Promise((r) => setTimeout(r, 2_000).unref()),
      ]);
      socket.end();
      await Promise.race([bye, new Promise((r) => setTimeout(r, 2_000).unref())]);
    }
    this.fail(new ImapCommandError('IMAP_CLOSED', 'connection closed by us'));
  }

  get broken(): boolean {
    return this.failure !== null;
  }

  private tlsOptions(): tls.ConnectionOptions {
    return { ...(net.isIP(this.ep.host) ? {} : { servername: this.ep.host }), ...this.ep.tls };
  }

  private attach(socket: net.Socket | tls.TLSSocket): void {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.setTimeout(SOCKET_TIMEOUT_MS);
    socket.on('data', this.onData);
    socket.on('timeout', () => {
      // Silence while we hold the socket paused is ours, not the server's.
      if (!this.paused)
        this.fail(new ImapCommandError('IMAP_TIMEOUT', 'no answer from the IMAP server'));
    });
    socket.on('error', (err: Error & { code?: string }) =>
      this.fail(
        new ImapCommandError(err.code ?? 'IMAP_SOCKET', `IMAP connection: ${err.message}`, {
          cause: err,
        }),
      ),
    );
    socket.on('close', () =>
      this.fail(new ImapCommandError('IMAP_CLOSED', 'IMAP server closed the connection')),
    );
  }

  private readonly onData = (chunk: Buffer): void => {
    try {
      this.reader.push(chunk);
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
    }
  };

  private onResponse(r: ImapResponse): void {
    if (this.startTlsTag === '') {
      this.injected = true;
      return;
    }
    const c = r.text.charCodeAt(0);
    // Untagged data (`* 3 FETCH`, `* 4 EXISTS`) goes to the command as it is; only
    // statuses are looked at here.
    if (c === 0x2a /* * */ && this.greeting === null) {
      const p = this.pending;
      if (p?.onUntagged && !isStatusLine(r.text)) return p.onUntagged(r);
    }
    const s = statusOf(r);
    if (this.greeting) {
      const done = this.greeting;
      this.greeting = null;
      this.pending = null;
      return done(s);
    }
    const p = this.pending;
    if (s.tag === '*') {
      if (s.kind === 'BYE') {
        this.fail(new ImapCommandError('IMAP_BYE', `server closing: ${s.text}`));
        return;
      }
      if (s.kind === 'CAPABILITY') this.capabilities = capabilitySet(s.text);
      if (s.code && /^CAPABILITY /i.test(s.code))
        this.capabilities = capabilitySet(s.code.slice(11));
      p?.onUntagged?.(r);
      return;
    }
    if (s.tag === '+') {
      if (p?.onContinue) p.onContinue(s);
      else this.fail(new ImapCommandError('IMAP_PROTOCOL', 'unexpected continuation request'));
      return;
    }
    if (!p || s.tag !== p.tag) {
      this.fail(new ImapCommandError('IMAP_PROTOCOL', `unexpected tagged response ${s.tag}`));
      return;
    }
    this.pending = null;
    if (s.code && /^CAPABILITY /i.test(s.code)) this.capabilities = capabilitySet(s.code.slice(11));
    if (s.tag === this.startTlsTag) this.startTlsTag = ''; // silence from here on
    if (s.kind === 'OK') p.resolve(s);
    else
      p.reject(
        new ImapCommandError(
          s.kind === 'NO' ? 'IMAP_NO' : 'IMAP_BAD',
          `${s.kind}${s.code ? ` [${s.code}]` : ''} ${s.text}`,
        ),
      );
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    const p = this.pending;
    this.pending = null;
    this.greeting = null;
    this.socket?.destroy();
    p?.reject(err);
  }

  private takeCapabilities(s: Status): void {
    const caps = codeArgument(s.code, 'CAPABILITY');
    if (caps !== null) this.capabilities = capabilitySet(caps);
  }

  private async startTls(): Promise<void> {
    this.startTlsTag = `B${this.seq + 1}`;
    await this.command('STARTTLS');
    const plain = this.socket!;
    plain.removeListener('data', this.onData);
    // RFC 3501 §6.2.1: nothing may follow the OK before the handshake; what did was
    // injected by someone in the middle, and must not pass for protected data.
    if (this.injected || !this.reader.idle)
      throw new ImapCommandError('STARTTLS_INJECTION', 'data after the STARTTLS response');
    this.startTlsTag = null;
    plain.removeAllListeners('timeout');
    const secure = tls.connect({ ...this.tlsOptions(), socket: plain });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', (err: Error & { code?: string }) =>
        reject(
          new ImapCommandError(err.code ?? 'IMAP_TLS', `STARTTLS: ${err.message}`, { cause: err }),
        ),
      );
    });
    this.attach(secure);
    this.capabilities.clear();
    await this.command('CAPABILITY');
  }

  private async login(): Promise<void> {
    const { user, password, accessToken } = this.ep;
    if (accessToken) {
      const oauth = this.capabilities.has('AUTH=OAUTHBEARER')
        ? {
            mech: 'OAUTHBEARER',
            payload: [
              `n,a=${user},`,
              `host=${this.ep.host}`,
              `port=${this.ep.port}`,
              `auth=Bearer ${accessToken}`,
              '',
              '',
            ].join('\x01'),
            breaker: 'AQ==',
          }
        : {
            mech: 'XOAUTH2',
            payload: [`user=${user}`, `auth=Bearer ${accessToken}`, '', ''].join('\x01'),
            breaker: '',
          };
      const b64 = Buffer.from(oauth.payload).toString('base64');
      const ir = this.capabilities.has('SASL-IR');
      let sent = ir;
      // Without SASL-IR the first `+` asks for the payload; a later one carries the
      // server's error (base64 JSON), answered with the breaker so the NO follows.
      await this.command(`AUTHENTICATE ${oauth.mech}${ir ? ` ${b64}` : ''}`, undefined, () => {
        this.write(`${sent ? oauth.breaker : b64}\r\n`);
        sent = true;
      });
      return;
    }
    const pass = password ?? '';
    const u = quoteArg(user);
    const p = quoteArg(pass);
    if (u !== null && p !== null && !this.capabilities.has('LOGINDISABLED')) {
      await this.command(`LOGIN ${u} ${p}`);
      return;
    }
    // Credentials a quoted string cannot hold (non-ASCII), or LOGIN disabled: SASL PLAIN.
    const plain = Buffer.from(`\0${user}\0${pass}`).toString('base64');
    await this.command('AUTHENTICATE PLAIN', undefined, () => this.write(`${plain}\r\n`));
  }

  private astring(s: string): string {
    return quoteArg(encodeMailboxName(s))!;
  }
}

/** Modified UTF-7 of mailbox names (RFC 3501 §5.1.3): `Entwürfe` → `Entw&APw-rfe`. */
export function encodeMailboxName(name: string): string {
  return name.replace(/&|[^\x20-\x7e]+/g, (run) => {
    if (run === '&') return '&-';
    const utf16 = Buffer.alloc(run.length * 2);
    for (let i = 0; i < run.length; i++) utf16.writeUInt16BE(run.charCodeAt(i), i * 2);
    return `&${utf16.toString('base64').replace(/=+$/, '').replace(/\//g, ',')}-`;
  });
}

function isStatusLine(text: string): boolean {
  const k = text.slice(2, 8).toUpperCase();
  return k.startsWith('OK') || k.startsWith('NO') || k.startsWith('BAD') || k.startsWith('BYE');
}

function capabilitySet(text: string): Set<string> {
  return new Set(text.toUpperCase().split(' ').filter(Boolean));
}
