// Helpers of the component tests: a fetch that answers like the intake API.
import { vi } from 'vitest';
import type { TicketSummary } from './api.js';

export type Route = (
  method: string,
  path: string,
  body: unknown,
) => { status: number; body: unknown } | undefined;

/** The URL a fetch was called with, whatever form it took. */
export const urlOf = (input: RequestInfo | URL): string =>
  typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;

/** A mocked fetch: `route` answers each call; unrouted calls fail the test loudly. */
export function fakeFetch(route: Route) {
  return vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(urlOf(input), 'http://console.test');
    const method = init?.method ?? 'GET';
    const body: unknown = typeof init?.body === 'string' ? JSON.parse(init.body) : undefined;
    const answer = route(method, url.pathname + url.search, body);
    if (!answer) throw new Error(`unexpected ${method} ${url.pathname}${url.search}`);
    return new Response(JSON.stringify(answer.body), {
      status: answer.status,
      headers: { 'content-type': 'application/json' },
    });
  });
}

export const ticket = (overrides: Partial<TicketSummary> = {}): TicketSummary => ({
  id: '0b7c5d8e-1f2a-4b3c-8d9e-0f1a2b3c4d5e',
  number: 42,
  title: 'Invoice charged twice',
  status: 'pending',
  priority: 'high',
  category: 'billing_dispute',
  department: 'billing',
  assignee: null,
  requester: { email: 'alice@example.test', name: 'Alice' },
  channel: 'api',
  needsReview: false,
  createdAt: new Date().toISOString(),
  updatedAt: new Date().toISOString(),
  routedAt: new Date().toISOString(),
  ...overrides,
});
