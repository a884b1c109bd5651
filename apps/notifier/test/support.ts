// Test helpers of the notifier: events as the router emits them, GreenMail's mailboxes
// over its REST API, and a TCP front of GreenMail that can play an SMTP outage.
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { makeEvent, type Envelope } from '@mailroom/events';
import { stackEnv } from '../../../test/support/env.js';

export function routedEvent(
  email: string,
  overrides: { title?: string; number?: number; name?: string; ticketId?: string } = {},
): Envelope<'ticket.routed'> & { ticketId: string } {
  const ticketId = overrides.ticketId ?? randomUUID();
  const event = makeEvent('ticket.routed', {
    ticketId,
    source: 'test',
    payload: {
      department: 'IT Support',
      priority: 'high',
      rule: 'categorizer',
      confidence: 0.9,
      decidedBy: 'categorizer:local',
      requester: { email, name: overrides.name ?? 'Alice' },
      number: overrides.number ?? 100_000 + Math.floor(Math.random() * 900_000),
      title: overrides.title ?? 'VPN drops',
      messageId: `<${randomUUID()}@client.example>`,
    },
  });
  return { ...event, ticketId };
}

export { createMailUser, mailbox, parse } from '../../../test/support/greenmail.js';

export type SmtpMode = 'down' | 'up' | 'reject';

/**
 * A TCP front of GreenMail's SMTP port: `down` answers 421 (service not available) and
 * hangs up, `up` relays to GreenMail, `reject` speaks SMTP itself and refuses every
 * recipient with 550 (a permanent failure).
 */
export async function smtpFront(initial: SmtpMode) {
  let mode = initial;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    if (mode === 'down') {
      client.end('421 4.3.2 Service not available, try again later\r\n');
      return;
    }
    if (mode === 'reject') {
      client.write('220 fake ESMTP\r\n');
      client.on('data', (chunk) => {
        for (const line of chunk.toString().split('\r\n').filter(Boolean)) {
          const cmd = line.slice(0, 4).toUpperCase();
          if (cmd === 'EHLO' || cmd === 'HELO') client.write('250 fake\r\n');
          else if (cmd === 'MAIL') client.write('250 OK\r\n');
          else if (cmd === 'RCPT') client.write('550 5.1.1 No such user\r\n');
          else if (cmd === 'QUIT') client.end('221 bye\r\n');
          else client.write('503 5.5.1 Bad sequence\r\n');
        }
      });
      return;
    }
    const upstream = net.connect(Number(stackEnv('SMTP_PORT')), stackEnv('SMTP_HOST'));
    upstream.on('error', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    set(next: SmtpMode) {
      mode = next;
      // Pooled connections opened in the old mode must not outlive it.
      for (const s of sockets) s.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
