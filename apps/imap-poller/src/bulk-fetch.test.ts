// The bulk FETCH reader against a scripted IMAP server: what real servers of the stack
// never do on demand (NO, BAD and BYE in the middle of a FETCH, a body over the cap,
// XOAUTH2 without SASL-IR, responses cut into pieces of a few bytes).
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '@mailroom/observability';
import { BulkConnection } from './bulk-connection.js';
import { createBulkFetcher, type FetchedSource } from './bulk-fetch.js';

const logger = createLogger({ name: 'test', level: 'silent' });
type Reply = (tag: string, args: string) => string | null;

// A self-signed certificate for 127.0.0.1 and localhost (test/fixtures).
const fixture = (f: string) => readFileSync(new URL(`../test/fixtures/${f}`, import.meta.url));
const cert = fixture('tls-cert.pem');
const key = fixture('tls-key.pem');

interface Script {
  greeting?: string;
  /** implicit: TLS from the first byte; starttls: plain until STARTTLS, then TLS. */
  tls?: 'implicit' | 'starttls';
  /** Keyed by command name (upper case); `null` reply: answer nothing. */
  commands: Record<string, Reply>;
  /** Client lines that were no command (SASL answers). */
  onLine?: (line: string) => string | null;
}

const servers: net.Server[] = [];
/** At the end of a reply: the server closes the connection once it is written. */
const CLOSE = '<close>';
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** Writes the answer a few bytes at a time, so every boundary gets crossed. */
async function trickle(sock: net.Socket, data: string) {
  const buf = Buffer.from(data, 'latin1');
  for (let i = 0; i < buf.length; i += 7) {
    if (sock.destroyed) return;
    sock.write(buf.subarray(i, i + 7));
    if (i % 70 === 0) await new Promise((r) => setImmediate(r));
  }
}

async function scripted(script: Script): Promise<{ port: number; seen: string[] }> {
  const seen: string[] = [];
  const serve = (sock: net.Socket, greet: boolean) => {
    let chain = greet ? trickle(sock, script.greeting ?? '* OK ready\r\n') : Promise.resolve();
    let pending = '';
    const onData = (d: Buffer) => {
      pending += d.toString('latin1');
      let nl: number;
      while ((nl = pending.indexOf('\r\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 2);
        seen.push(line);
        const m = /^(\S+) (\S+(?: \S+)?)(?: (.*))?$/.exec(line);
        const name = m ? m[2]!.toUpperCase().replace(/^UID /, 'UID_') : '';
        const handler = m && (script.commands[name] ?? script.commands[name.split(' ')[0]!]);
        const out = handler ? handler(m[1]!, m[3] ?? '') : (script.onLine?.(line) ?? null);
        if (name === 'STARTTLS' && out !== null) {
          // Answered in one write (with whatever a script injects after the OK), then
          // the handshake on the same socket.
          sock.removeListener('data', onData);
          sock.write(out);
          if (script.tls === 'starttls')
            serve(new tls.TLSSocket(sock, { isServer: true, key, cert }), false);
          return;
        }
        if (out !== null) {
          const close = out.endsWith(CLOSE);
          chain = chain.then(async () => {
            await trickle(sock, close ? out.slice(0, -CLOSE.length) : out);
            if (close) sock.end();
          });
        }
      }
    };
    sock.on('data', onData);
    sock.on('error', () => undefined);
  };
  const server =
    script.tls === 'implicit'
      ? tls.createServer({ key, cert }, (sock) => serve(sock, true))
      : net.createServer((sock) => serve(sock, true));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, seen };
}

const ok =
  (text = 'done'): Reply =>
  (tag) =>
    `${tag} OK ${text}\r\n`;
const examine: Reply = (tag) =>
  `* FLAGS (\\Seen)\r\n* 3 EXISTS\r\n* OK [UIDVALIDITY 77] UIDs valid\r\n${tag} OK [READ-ONLY] done\r\n`;
const msg = (n: number) => `Subject: m${n}\r\n\r\nbody {${n}}\r\n`;
const fetchLine = (seq: number, uid: number, body = msg(uid)) =>
  `* ${seq} FETCH (UID ${uid} BODY[]<0> {${body.length}}\r\n${body})\r\n`;

const endpoint = (port: number, auth: { password?: string; accessToken?: string }) => ({
  host: '127.0.0.1',
  port,
  secure: false,
  user: 'u@example.test',
  ...auth,
});

async function fetchAll(port: number, uids: number[], cap = 1 << 20, uidValidity = '77') {
  const f = createBulkFetcher({
    endpoint: endpoint(port, { password: 'p"w' }),
    folder: 'INBOX',
    uidValidity,
    logger,
  });
  const got: FetchedSource[] = [];
  try {
    for await (const m of f.fetch(uids, cap)) got.push(m);
    return { got };
  } catch (err) {
    return { got, err: err as Error & { code?: string } };
  } finally {
    await f.close();
  }
}

describe('bulk FETCH reader (scripted server)', () => {
  const base = { CAPABILITY: ok(), LOGIN: ok(), EXAMINE: examine, LOGOUT: ok() };

  it('reads bodies among EXISTS, EXPUNGE, FLAGS and flag-only FETCHes cut into 7-byte pieces', async () => {
    const { port, seen } = await scripted({
      commands: {
        ...base,
        UID_FETCH: (tag) =>
          fetchLine(1, 10) +
          '* 4 EXISTS\r\n* 2 FETCH (FLAGS (\\Seen) UID 11)\r\n' +
          fetchLine(2, 11) +
          '* 1 EXPUNGE\r\n* FLAGS (\\Seen \\Deleted)\r\n' +
          fetchLine(2, 11, 'duplicate') +
          fetchLine(7, 99) + // not asked for
          `* 2 FETCH (BODY[]<0> NIL UID 12)\r\n${tag} OK done\r\n`,
      },
    });
    const { got, err } = await fetchAll(port, [10, 11, 12, 13]);
    expect(err).toBeUndefined();
    expect(got).toEqual([
      { uid: 10, source: Buffer.from(msg(10)) },
      { uid: 11, source: Buffer.from(msg(11)) },
      { uid: 12, source: null, late: true },
    ]);
    expect(seen).toContain('B2 LOGIN "u@example.test" "p\\"w"');
    expect(seen).toContain('B4 UID FETCH 10:13 (UID BODY.PEEK[]<0.1048576>)');
  });

  it('a body over the cap comes as late, the rest as usual', async () => {
    const big = 'x'.repeat(3000);
    const { port } = await scripted({
      commands: {
        ...base,
        UID_FETCH: (tag) => fetchLine(1, 1, big) + fetchLine(2, 2) + `${tag} OK done\r\n`,
      },
    });
    const { got, err } = await fetchAll(port, [1, 2], 1000);
    expect(err).toBeUndefined();
    expect(got).toEqual([
      { uid: 1, source: null, late: true },
      { uid: 2, source: Buffer.from(msg(2)) },
    ]);
  });

  it.each([
    ['NO', 'IMAP_NO'],
    ['BAD', 'IMAP_BAD'],
  ])('a tagged %s fails the FETCH after what came before it', async (status, code) => {
    const { port } = await scripted({
      commands: {
        ...base,
        UID_FETCH: (tag) => fetchLine(1, 5) + `${tag} ${status} [SERVERBUG] broken\r\n`,
      },
    });
    const { got, err } = await fetchAll(port, [5, 6]);
    expect(got.map((g) => g.uid)).toEqual([5]);
    expect(err).toMatchObject({ code, retriable: true });
  });

  it('BYE in the middle of a FETCH, or the connection cut inside a literal, fails it', async () => {
    const bye = await scripted({
      commands: { ...base, UID_FETCH: () => fetchLine(1, 5) + '* BYE going down\r\n' },
    });
    const r1 = await fetchAll(bye.port, [5, 6]);
    expect(r1.got.map((g) => g.uid)).toEqual([5]);
    expect(r1.err).toMatchObject({ code: 'IMAP_BYE', retriable: true });

    const cut = await scripted({
      commands: { ...base, UID_FETCH: () => `* 1 FETCH (UID 5 BODY[]<0> {100}\r\nabc${CLOSE}` },
    });
    const r2 = await fetchAll(cut.port, [5]);
    expect(r2.got).toEqual([]);
    expect(r2.err).toMatchObject({ code: 'IMAP_CLOSED', retriable: true });
  });

  it('refuses a folder whose UIDVALIDITY is not the checkpoint one', async () => {
    const { port, seen } = await scripted({ commands: { ...base, UID_FETCH: ok() } });
    const { err } = await fetchAll(port, [1], 1 << 20, '76');
    expect(err).toMatchObject({ code: 'UIDVALIDITY_CHANGED' });
    expect(seen.some((l) => l.includes('UID FETCH'))).toBe(false);
  });

  it('a FETCH response with a body but no UID is a protocol error', async () => {
    const { port } = await scripted({
      commands: {
        ...base,
        UID_FETCH: (tag) => `* 1 FETCH (BODY[]<0> {2}\r\nhi)\r\n${tag} OK done\r\n`,
      },
    });
    const { err } = await fetchAll(port, [1]);
    expect(err).toMatchObject({ code: 'IMAP_PROTOCOL' });
  });

  it('XOAUTH2 without SASL-IR: payload on the first continuation, an empty line on the error one', async () => {
    const token = 'tok-123';
    const payload = Buffer.from(`user=u@example.test\x01auth=Bearer ${token}\x01\x01`).toString(
      'base64',
    );
    let authTag = '';
    const good = await scripted({
      greeting: '* OK [CAPABILITY IMAP4rev1 AUTH=XOAUTH2] ready\r\n',
      commands: {
        ...base,
        AUTHENTICATE: (tag) => {
          authTag = tag;
          return '+ \r\n';
        },
      },
      onLine: (line) => (line === payload ? `${authTag} OK welcome\r\n` : null),
    });
    const c = new BulkConnection(endpoint(good.port, { accessToken: token }), 1 << 20);
    await c.open('INBOX');
    expect(c.uidValidity).toBe('77');
    expect(good.seen).toContain('B1 AUTHENTICATE XOAUTH2');
    await c.close();

    const bad = await scripted({
      greeting: '* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2] ready\r\n',
      commands: {
        ...base,
        AUTHENTICATE: (tag) => {
          authTag = tag;
          return '+ eyJzdGF0dXMiOiI0MDEifQ==\r\n';
        },
      },
      onLine: (line) => (line === '' ? `${authTag} NO [AUTHENTICATIONFAILED] invalid\r\n` : null),
    });
    const d = new BulkConnection(endpoint(bad.port, { accessToken: token }), 1 << 20);
    await expect(d.open('INBOX')).rejects.toMatchObject({ code: 'IMAP_NO' });
    expect(bad.seen).toContain(`B1 AUTHENTICATE XOAUTH2 ${payload}`);
    await d.close();
  });

  it('a greeting of BYE fails the open', async () => {
    const { port } = await scripted({ greeting: '* BYE too many connections\r\n', commands: {} });
    const c = new BulkConnection(endpoint(port, { password: 'x' }), 1 << 20);
    await expect(c.open('INBOX')).rejects.toMatchObject({ code: 'IMAP_BYE' });
    await c.close();
  });

  it('implicit TLS and STARTTLS: the certificate is verified, the login goes over TLS', async () => {
    const implicit = await scripted({ tls: 'implicit', commands: base });
    const secure = { ...endpoint(implicit.port, { password: 'pw' }), secure: true };
    const c = new BulkConnection({ ...secure, tls: { ca: cert } }, 1 << 20);
    await c.open('INBOX');
    expect(c.uidValidity).toBe('77');
    await c.close();
    // Not trusted: the open fails.
    const untrusted = new BulkConnection(secure, 1 << 20);
    await expect(untrusted.open('INBOX')).rejects.toMatchObject({ retriable: true });
    await untrusted.close();

    const starttls = await scripted({
      tls: 'starttls',
      greeting: '* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\n',
      commands: {
        ...base,
        STARTTLS: ok('begin TLS'),
        CAPABILITY: (tag) => `* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n${tag} OK done\r\n`,
      },
    });
    const plainEp = endpoint(starttls.port, { password: 'pw' });
    const d = new BulkConnection({ ...plainEp, tls: { ca: cert } }, 1 << 20);
    await d.open('INBOX');
    // LOGINDISABLED was said before TLS only: after it, a plain LOGIN.
    expect(starttls.seen.slice(0, 4)).toEqual([
      'B1 STARTTLS',
      'B2 CAPABILITY',
      'B3 LOGIN "u@example.test" "pw"',
      'B4 EXAMINE "INBOX"',
    ]);
    await d.close();
  });

  it('STARTTLS: data after the OK and before the handshake fails the open', async () => {
    const { port, seen } = await scripted({
      greeting: '* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n',
      commands: {
        ...base,
        STARTTLS: (tag) => `${tag} OK begin\r\n* OK [CAPABILITY IMAP4rev1] x\r\n`,
      },
    });
    const c = new BulkConnection(
      { ...endpoint(port, { password: 'pw' }), tls: { ca: cert } },
      1 << 20,
    );
    await expect(c.open('INBOX')).rejects.toMatchObject({ code: 'STARTTLS_INJECTION' });
    await c.close();
    expect(seen.some((l) => l.includes('LOGIN'))).toBe(false);
  });
});
