import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeEvent, TOPICS } from '@mailroom/events';
import { unique, waitFor } from '../../../../test/support/env.js';
import {
  insertTicket,
  json,
  makeKey,
  openHarness,
  tapTopic,
  testApp,
  type Harness,
} from '../../test/harness.js';
import type { App } from '../app-types.js';

let h: Harness;
let app: App;
let tap: Awaited<ReturnType<typeof tapTopic>>;
let agent: Awaited<ReturnType<typeof makeKey>>;

beforeAll(async () => {
  h = await openHarness();
  app = await testApp(h);
  tap = await tapTopic(TOPICS.commands);
  agent = await makeKey(h.pool, 'agent');
});
afterAll(async () => {
  await tap.stop();
  await app.close();
  await h.close();
});

const send = (method: 'PATCH' | 'PUT' | 'POST', url: string, payload: unknown) =>
  app.inject({ method, url, headers: agent.headers, payload: payload as object });

const commandsOf = (ticketId: string) =>
  tap.records.filter((r) => r.key?.toString() === ticketId).map((r) => decodeEvent(r.value));

describe('PATCH /api/tickets/:id and PUT /api/tickets/:id/status', () => {
  it('produces command.update_ticket keyed by ticket id and answers 202', async () => {
    const t = await insertTicket(h.pool, { status: 'pending' });
    const res = await send('PATCH', `/api/tickets/${t.number}`, {
      status: 'in_progress',
      priority: 'high',
      assignee: 'dana@example.test',
      reason: 'taking it',
    });
    expect(res.statusCode, res.body).toBe(202);
    const { commandId, statusUrl } = json(res.body) as { commandId: string; statusUrl: string };
    expect(statusUrl).toBe(`/api/commands/${commandId}`);
    const [command] = await waitFor(() => commandsOf(t.id).length === 1 && commandsOf(t.id));
    expect(command).toMatchObject({
      type: 'command.update_ticket',
      ticketId: t.id,
      payload: {
        commandId,
        changes: { status: 'in_progress', priority: 'high', assignee: 'dana@example.test' },
        actor: { type: 'agent', id: agent.name },
        reason: 'taking it',
      },
    });
    const status = await app.inject({ url: statusUrl, headers: agent.headers });
    // 'applied' when a ticket-store of another test file already ran it
    expect(json(status.body)).toMatchObject({ commandId });
    expect(['pending', 'applied']).toContain(json(status.body).outcome);
  });

  it('a department in PATCH is a reroute: command.route_ticket after the update', async () => {
    const t = await insertTicket(h.pool, { department: 'IT Support' });
    const res = await send('PATCH', `/api/tickets/${t.id}`, {
      category: 'Leave',
      department: 'HR',
    });
    expect(res.statusCode).toBe(202);
    const events = await waitFor(() => commandsOf(t.id).length === 2 && commandsOf(t.id));
    expect(events.map((e) => e.type)).toEqual(['command.update_ticket', 'command.route_ticket']);
    expect(events[1]?.payload).toMatchObject({ department: 'HR' });
    expect((json(res.body).commandIds as string[]).length).toBe(2);
  });

  it('PUT status: 202 for an allowed transition, 409 with the reason otherwise', async () => {
    const resolved = await insertTicket(h.pool, { status: 'resolved' });
    const ok = await send('PUT', `/api/tickets/${resolved.id}/status`, {
      status: 'closed',
      reason: 'done',
    });
    expect(ok.statusCode).toBe(202);
    await waitFor(() => commandsOf(resolved.id).length === 1);
    expect(commandsOf(resolved.id)[0]?.payload).toMatchObject({ changes: { status: 'closed' } });

    const closed = await insertTicket(h.pool, { status: 'closed' });
    const bad = await send('PUT', `/api/tickets/${closed.id}/status`, { status: 'pending' });
    expect(bad.statusCode).toBe(409);
    expect(json(bad.body).error).toMatchObject({ code: 'INVALID_TRANSITION' });
    expect((json(bad.body).error as { message: string }).message).toMatch(/closed/);
    const same = await send('PATCH', `/api/tickets/${resolved.id}`, { status: 'resolved' });
    expect(same.statusCode).toBe(409);
    await new Promise((r) => setTimeout(r, 300));
    expect(commandsOf(closed.id)).toEqual([]);
  });

  it('404 for unknown tickets, 400 for empty or unknown changes', async () => {
    expect(
      (await send('PATCH', `/api/tickets/${randomUUID()}`, { priority: 'low' })).statusCode,
    ).toBe(404);
    expect(
      (await send('PUT', '/api/tickets/987654321/status', { status: 'closed' })).statusCode,
    ).toBe(404);
    const t = await insertTicket(h.pool);
    const empty = await send('PATCH', `/api/tickets/${t.id}`, {});
    expect(empty.statusCode).toBe(400);
    const unknown = await send('PATCH', `/api/tickets/${t.id}`, { colour: 'red' });
    expect(unknown.statusCode).toBe(400);
    expect(json(unknown.body).error).toMatchObject({ details: [{ field: 'body/colour' }] });
  });
});

describe('routing', () => {
  it('POST /api/route and PUT /api/route/:ticketId produce command.route_ticket with who and why', async () => {
    const t = await insertTicket(h.pool, { department: 'General' });
    const post = await send('POST', '/api/route', {
      ticketId: t.id,
      department: 'Finance',
      reason: 'invoice',
    });
    expect(post.statusCode, post.body).toBe(202);
    const put = await send('PUT', `/api/route/${t.number}`, {
      department: 'HR',
      reason: 'payroll',
    });
    expect(put.statusCode).toBe(202);
    const events = await waitFor(() => commandsOf(t.id).length === 2 && commandsOf(t.id));
    expect(events.map((e) => e.payload)).toMatchObject([
      { department: 'Finance', reason: 'invoice', actor: { type: 'agent', id: agent.name } },
      { department: 'HR', reason: 'payroll' },
    ]);
  });

  it('refuses unknown departments (422), closed tickets (409), unknown tickets (404)', async () => {
    const t = await insertTicket(h.pool);
    const dept = await send('POST', '/api/route', {
      ticketId: t.id,
      department: 'Marketing',
      reason: 'x',
    });
    expect(dept.statusCode).toBe(422);
    expect(json(dept.body).error).toMatchObject({ code: 'UNKNOWN_DEPARTMENT' });
    const closed = await insertTicket(h.pool, { status: 'closed' });
    expect(
      (await send('PUT', `/api/route/${closed.id}`, { department: 'HR', reason: 'x' })).statusCode,
    ).toBe(409);
    expect(
      (await send('PUT', `/api/route/${randomUUID()}`, { department: 'HR', reason: 'x' }))
        .statusCode,
    ).toBe(404);
    expect((await send('PUT', `/api/route/${t.id}`, { department: 'HR' })).statusCode).toBe(400);
  });

  it('history and statistics come from routing_history', async () => {
    const t = await insertTicket(h.pool);
    const a = unique('Dept A');
    const b = unique('Dept B');
    const insert = (
      kind: string,
      department: string,
      previous: string | null,
      confidence: number | null,
      minute: number,
    ) =>
      h.pool.query(
        `INSERT INTO routing_history (event_id, ticket_id, department, previous_department, kind, rule, confidence, decided_by, reason, at)
         VALUES ($1, $2, $3, $4, $5, 'test', $6, 'router', null, $7)`,
        [
          randomUUID(),
          t.id,
          department,
          previous,
          kind,
          confidence,
          new Date(Date.UTC(2024, 0, 1, 0, minute)),
        ],
      );
    await insert('routed', a, null, 0.8, 1);
    await insert('rerouted', b, a, null, 2);
    const other = await insertTicket(h.pool);
    await h.pool.query(
      `INSERT INTO routing_history (event_id, ticket_id, department, kind, rule, confidence, decided_by)
       VALUES ($1, $2, $3, 'routed', 'test', 0.6, 'router')`,
      [randomUUID(), other.id, a],
    );

    const history = await app.inject({
      url: `/api/routing/history/${t.id}`,
      headers: agent.headers,
    });
    expect(json(history.body).items).toMatchObject([
      { kind: 'routed', department: a, confidence: 0.8 },
      { kind: 'rerouted', department: b, previousDepartment: a },
    ]);
    expect(
      (await app.inject({ url: `/api/routing/history/${randomUUID()}`, headers: agent.headers }))
        .statusCode,
    ).toBe(404);

    const stats = await app.inject({ url: '/api/routing/statistics', headers: agent.headers });
    const items = json(stats.body).items as { department: string }[];
    expect(items.find((i) => i.department === a)).toEqual({
      department: a,
      routed: 2,
      reroutedIn: 0,
      reroutedOut: 1,
      averageConfidence: 0.7,
      rerouteRate: 0.5,
    });
    expect(items.find((i) => i.department === b)).toMatchObject({
      routed: 0,
      reroutedIn: 1,
      rerouteRate: null,
    });
  });

  it('GET /api/departments lists the taxonomy with open ticket counts', async () => {
    const res = await app.inject({ url: '/api/departments', headers: agent.headers });
    const items = json(res.body).items as { name: string; openTickets: number }[];
    expect(items.map((d) => d.name)).toEqual([
      'IT Support',
      'HR',
      'Facilities',
      'Finance',
      'General',
    ]);
    expect(items.every((d) => Number.isInteger(d.openTickets))).toBe(true);
  });
});
