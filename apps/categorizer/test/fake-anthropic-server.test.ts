import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from './fake-anthropic-server.js';

// The fake itself: it must reject what the real API rejects and answer in its format,
// or the categorizer tests would pass against something the API never does.

let server: FakeAnthropic;
beforeAll(async () => {
  server = await startFakeAnthropic({ apiKey: 'k' });
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => server.reset());

const body = {
  model: 'claude-haiku-5-5',
  max_tokens: 100,
  tools: [
    {
      name: 't',
      input_schema: { type: 'object', properties: { department: { enum: ['HR', 'General'] } } },
    },
  ],
  messages: [{ role: 'user', content: '<ticket>my sick leave form</ticket>' }],
};

const post = (headers: Record<string, string>, payload: unknown = body, path = '/v1/messages') =>
  fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(payload),
  });

const ok = { 'x-api-key': 'k', 'anthropic-version': '2023-06-01' };

describe('fake Anthropic server', () => {
  it('checks the key, the version header, the route and the body', async () => {
    const wrong = await post({ 'x-api-key': 'nope', 'anthropic-version': '2023-06-01' });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({
      type: 'error',
      error: { type: 'authentication_error' },
    });
    expect((await post({ authorization: 'Bearer k' })).status).toBe(400);
    expect((await post(ok, body, '/v1/complete')).status).toBe(404);
    expect((await post(ok, { model: 'x' })).status).toBe(400);
    expect(server.requests).toHaveLength(4);
  });

  it('answers smart by default, with tool_use and cache usage', async () => {
    const res = await post(ok);
    expect(res.headers.get('request-id')).toBeTruthy();
    const msg = (await res.json()) as Record<string, unknown>;
    expect(msg).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: 'claude-haiku-5-5',
      stop_reason: 'tool_use',
      content: [{ type: 'tool_use', name: 't', input: { department: 'HR' } }],
    });
    expect(msg.usage).toMatchObject({ cache_read_input_tokens: 0 });
    const again = (await (await post(ok)).json()) as { usage: { cache_read_input_tokens: number } };
    expect(again.usage.cache_read_input_tokens).toBeGreaterThan(0);
  });

  it('sends 429 with retry-after and the API error body', async () => {
    server.enqueue({ kind: 'rate_limited', retryAfterSeconds: 7 });
    const res = await post(ok);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
    expect((await post(ok)).status).toBe(200); // the queue is one-shot
  });

  it('has a fixed-latency mode for benchmarks', async () => {
    const slow = await startFakeAnthropic({ apiKey: 'k', latencyMs: 300 });
    try {
      const t0 = Date.now();
      const res = await fetch(`${slow.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...ok },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(200);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    } finally {
      await slow.close();
    }
  });
});
