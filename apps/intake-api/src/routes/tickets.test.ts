import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unique } from '../../../../test/support/env.js';
import {
  insertTicket,
  json,
  makeKey,
  openHarness,
  testApp,
  type Harness,
} from '../../test/harness.js';
import type { App } from '../app-types.js';

let h: Harness;
let app: App;
let agent: Awaited<ReturnType<typeof makeKey>>;
// Every ticket of this file carries this requester: the filters are tested inside it,
// whatever else the shared test database holds.
const requester = `${unique('req')}@example.test`;
const token = unique('tok').replace('-', '');
const ids: Record<string, { id: string; number: number }> = {};

const at = (minutes: number) => new Date(Date.UTC(2024, 0, 1, 12, minutes)).toISOString();

beforeAll(async () => {
  h = await openHarness();
  app = await testApp(h);
  agent = await makeKey(h.pool, 'agent');
  const rows = [
    {
      key: 'a',
      status: 'pending',
      priority: 'low',
      department: 'IT Support',
      category: 'Network',
      title: `VPN down ${token}`,
      created_at: at(1),
    },
    {
      key: 'b',
      status: 'in_progress',
      priority: 'critical',
      department: 'IT Support',
      category: 'Hardware',
      title: 'Laptop screen broken',
      created_at: at(2),
    },
    {
      key: 'c',
      status: 'resolved',
      priority: 'high',
      department: 'HR',
      category: 'Leave',
      title: 'Holiday request',
      created_at: at(3),
      description: `about ${token} too`,
    },
    {
      key: 'd',
      status: 'pending',
      priority: 'medium',
      department: 'Facilities',
      category: 'Building',
      title: 'Heating broken',
      created_at: at(4),
    },
    {
      key: 'e',
      status: 'closed',
      priority: null,
      department: null,
      category: null,
      title: 'Spam',
      created_at: at(5),
    },
    {
      key: 'f',
      status: 'pending',
      priority: 'critical',
      department: 'Finance',
      category: 'Invoice',
      title: "O'Brien; DROP TABLE x",
      created_at: at(6),
    },
  ] as const;
  for (const { key, ...row } of rows) {
    ids[key] = await insertTicket(h.pool, { ...row, requester_email: requester });
  }
});
afterAll(async () => {
  await app.close();
  await h.close();
});

async function list(query: string) {
  const res = await app.inject({
    url: `/api/tickets?requester=${encodeURIComponent(requester)}&${query}`,
    headers: agent.headers,
  });
  expect(res.statusCode, res.body).toBe(200);
  const body = json(res.body) as { items: { id: string }[]; nextCursor: string | null };
  const names = body.items.map((i) => Object.keys(ids).find((k) => ids[k]!.id === i.id));
  return { ...body, names };
}

describe('GET /api/tickets', () => {
  it('lists newest first by default', async () => {
    expect((await list('')).names).toEqual(['f', 'e', 'd', 'c', 'b', 'a']);
  });

  it('filters by status, department, category, priority (one or several values)', async () => {
    expect((await list('status=pending')).names).toEqual(['f', 'd', 'a']);
    expect((await list('status=pending&status=closed')).names).toEqual(['f', 'e', 'd', 'a']);
    expect((await list('department=IT%20Support')).names).toEqual(['b', 'a']);
    expect((await list('category=Leave')).names).toEqual(['c']);
    expect((await list('priority=critical')).names).toEqual(['f', 'b']);
    expect((await list('status=pending&priority=critical')).names).toEqual(['f']);
  });

  it('searches the full text of title and description', async () => {
    expect((await list(`search=${token}`)).names).toEqual(['c', 'a']);
    expect((await list('search=heating')).names).toEqual(['d']);
    expect((await list(`search=${encodeURIComponent('"laptop screen" -vpn')}`)).names).toEqual([
      'b',
    ]);
    expect((await list(`search=${encodeURIComponent("O'Brien; DROP")}`)).names).toEqual(['f']);
  });

  it('filters by creation time range (from inclusive, to exclusive)', async () => {
    const q = `created_from=${encodeURIComponent(at(2))}&created_to=${encodeURIComponent(at(4))}`;
    expect((await list(q)).names).toEqual(['c', 'b']);
  });

  it('sorts by creation ascending and by priority', async () => {
    expect((await list('sort=created_at_asc')).names).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect((await list('sort=priority')).names).toEqual(['f', 'b', 'c', 'd', 'a', 'e']);
  });

  it('pages with an opaque cursor, for every sort', async () => {
    for (const [sort, expected] of [
      ['created_at_desc', ['f', 'e', 'd', 'c', 'b', 'a']],
      ['created_at_asc', ['a', 'b', 'c', 'd', 'e', 'f']],
      ['priority', ['f', 'b', 'c', 'd', 'a', 'e']],
    ] as const) {
      const seen: (string | undefined)[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: Awaited<ReturnType<typeof list>> = await list(
          `sort=${sort}&limit=4${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        );
        seen.push(...page.names);
        cursor = page.nextCursor;
        pages += 1;
      } while (cursor && pages < 5);
      expect(seen, sort).toEqual(expected);
      expect(pages).toBe(2);
    }
  });

  it('refuses a cursor of another sort, garbage cursors, and limits above 100', async () => {
    const first = await list('limit=1');
    const res = await app.inject({
      url: `/api/tickets?sort=priority&cursor=${first.nextCursor}`,
      headers: agent.headers,
    });
    expect(res.statusCode).toBe(400);
    expect(json(res.body).error).toMatchObject({ code: 'INVALID_CURSOR' });
    const garbage = await app.inject({ url: '/api/tickets?cursor=bm9wZQ', headers: agent.headers });
    expect(garbage.statusCode).toBe(400);
    const tooMany = await app.inject({ url: '/api/tickets?limit=101', headers: agent.headers });
    expect(tooMany.statusCode).toBe(400);
    expect(json(tooMany.body).error).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: [{ field: 'querystring/limit' }],
    });
    const badStatus = await app.inject({ url: '/api/tickets?status=open', headers: agent.headers });
    expect(badStatus.statusCode).toBe(400);
  });

  it("lists a department's tickets, with a status filter; 404 for unknown departments", async () => {
    const res = await app.inject({
      url: `/api/departments/IT%20Support/tickets?status=in_progress&requester=${encodeURIComponent(requester)}`,
      headers: agent.headers,
    });
    expect(res.statusCode).toBe(200);
    expect((json(res.body).items as { id: string }[]).map((i) => i.id)).toEqual([ids.b!.id]);
    const unknown = await app.inject({
      url: '/api/departments/Nope/tickets',
      headers: agent.headers,
    });
    expect(unknown.statusCode).toBe(404);
  });
});

describe('GET /api/tickets/:id', () => {
  it('finds a ticket by id and by number, with messages and histories', async () => {
    const { id, number } = ids.c!;
    await h.pool.query(
      `INSERT INTO ticket_messages (id, ticket_id, source_key, direction, author_email, author_role, body_text, reply_text)
       VALUES ($1, $2, $3, 'inbound', $4, 'requester', 'hello <b>there</b>', 'hello')`,
      [randomUUID(), id, `test:${randomUUID()}`, requester],
    );
    await h.pool.query(
      `INSERT INTO ticket_status_history (event_id, ticket_id, from_status, to_status, actor_type, actor_id, reason)
       VALUES ($1, $2, 'pending', 'resolved', 'agent', 'dana', 'fixed')`,
      [randomUUID(), id],
    );
    await h.pool.query(
      `INSERT INTO routing_history (event_id, ticket_id, department, kind, rule, confidence, decided_by)
       VALUES ($1, $2, 'HR', 'routed', 'category:Leave', 0.9, 'router')`,
      [randomUUID(), id],
    );
    const byId = await app.inject({ url: `/api/tickets/${id}`, headers: agent.headers });
    expect(byId.statusCode).toBe(200);
    const ticket = json(byId.body);
    expect(ticket).toMatchObject({
      id,
      number,
      status: 'resolved',
      requester: { email: requester, name: null },
      messages: [{ text: 'hello <b>there</b>', role: 'requester' }],
      statusHistory: [{ from: 'pending', to: 'resolved', actor: { id: 'dana' } }],
      routingHistory: [{ department: 'HR', kind: 'routed', confidence: 0.9 }],
    });
    const byNumber = await app.inject({ url: `/api/tickets/${number}`, headers: agent.headers });
    expect(json(byNumber.body).id).toBe(id);
  });

  it('404 for an unknown id, number or garbage', async () => {
    for (const ref of [randomUUID(), '999999999999', 'abc', "1' OR '1'='1"]) {
      const res = await app.inject({
        url: `/api/tickets/${encodeURIComponent(ref)}`,
        headers: agent.headers,
      });
      expect(res.statusCode, ref).toBe(404);
      expect(json(res.body).error).toMatchObject({ code: 'NOT_FOUND' });
    }
  });
});
