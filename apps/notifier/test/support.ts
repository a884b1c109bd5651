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

/** The ticket.created the router's ticket.routed follows (automated: a machine wrote it). */
export function createdEvent(
  routed: Envelope<'ticket.routed'> & { ticketId: string },
  overrides: { automated?: boolean } = {},
): Envelope<'ticket.created'> {
  const now = new Date().toISOString();
  const p = routed.payload;
  return makeEvent('ticket.created', {
    ticketId: routed.ticketId,
    source: 'test',
    payload: {
      number: p.number,
      title: p.title,
      description: 'as the title says',
      requester: p.requester,
      channel: 'email',
      status: 'pending',
      attachments: [],
      ...(p.messageId ? { messageId: p.messageId } : {}),
      ...(overrides.automated ? { automated: true } : {}),
      createdAt: now,
      receivedAt: now,
    },
  });
}

export function statusEvent(
  routed: Envelope<'ticket.routed'> & { ticketId: string },
  from: 'pending' | 'in_progress',
  to: 'in_progress' | 'resolved' | 'closed',
): Envelope<'ticket.status_changed'> {
  const p = routed.payload;
  return makeEvent('ticket.status_changed', {
    ticketId: routed.ticketId,
    source: 'test',
    payload: {
      from,
      to,
      actor: { type: 'agent', id: 'agent@example.test' },
      number: p.number,
      requester: p.requester,
      title: p.title,
    },
  });
}

export function reroutedEvent(
  routed: Envelope<'ticket.routed'> & { ticketId: string },
  to: string,
): Envelope<'ticket.rerouted'> {
  return makeEvent('ticket.rerouted', {
    ticketId: routed.ticketId,
    source: 'test',
    payload: {
      from: routed.payload.department,
      to,
      reason: 'wrong team',
      actor: { type: 'agent', id: 'agent@example.test' },
      commandId: randomUUID(),
    },
  });
}

export { createMailUser, mailbox, parse } from '../../../test/support/greenmail.js';

export type SmtpMode = 'down' | 'up' | 'reject' | 'selective';

/**
 * A TCP front of GreenMail's SMTP port: `down` answers 421 (service not available) and
 * hangs up, `up` relays to GreenMail, `reject` speaks SMTP itself and refuses every
 * recipient with 550 (a permanent failure), `selective` speaks SMTP itself, refuses
 * recipients whose address contains "reject" and accepts (and drops) every other mail.
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
    if (mode === 'reject' || mode === 'selective') {
      const refuse = (rcpt: string) => mode === 'reject' || rcpt.toLowerCase().includes('reject');
      let buffer = '';
      let inData = false;
      client.write('220 fake ESMTP\r\n');
      client.on('data', (chunk) => {
        buffer += chunk.toString('latin1');
        for (let end = buffer.indexOf('\r\n'); end >= 0; end = buffer.indexOf('\r\n')) {
          const line = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (inData) {
            if (line === '.') {
              inData = false;
              client.write('250 2.0.0 accepted by the fake\r\n');
            }
            continue;
          }
          const cmd = line.slice(0, 4).toUpperCase();
          if (cmd === 'EHLO' || cmd === 'HELO') client.write('250 fake\r\n');
          else if (cmd === 'MAIL' || cmd === 'RSET') client.write('250 OK\r\n');
          else if (cmd === 'RCPT')
            client.write(refuse(line) ? '550 5.1.1 No such user\r\n' : '250 OK\r\n');
          else if (cmd === 'DATA' && mode === 'selective') {
            inData = true;
            client.write('354 go ahead\r\n');
          } else if (cmd === 'QUIT') client.end('221 bye\r\n');
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
