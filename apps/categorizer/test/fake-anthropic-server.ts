import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { smartToolInput } from './fake-anthropic-smart.js';

// A local stand-in for the Anthropic Messages API (POST /v1/messages), speaking its
// wire format over real HTTP, so that the SDK, our retry loop, timeouts and the
// circuit breaker are exercised exactly as in production. Tests script what it
// answers and read back every request it received.

export type FakeBehaviour =
  /** A keyword-based, well-formed tool_use answer (the default). */
  | { kind: 'smart' }
  /** A tool_use answer with exactly this input (may be off-taxonomy or incomplete). */
  | { kind: 'tool_use'; input: unknown; stopReason?: string }
  /** Plain text instead of a tool call. */
  | { kind: 'text'; text?: string }
  /** A tool call cut short by max_tokens. */
  | { kind: 'max_tokens' }
  /** An API error with the API's JSON error body. */
  | {
      kind: 'error';
      status: number;
      type: string;
      message?: string;
      retryAfter?: string;
      errorCode?: string;
    }
  | { kind: 'rate_limited'; retryAfterSeconds?: number }
  | { kind: 'overloaded' }
  | { kind: 'server_error' }
  /** Wait, then answer with `then` (default smart); for timeouts. */
  | { kind: 'delay'; ms: number; then?: FakeBehaviour }
  /** Destroy the connection without an answer. */
  | { kind: 'reset' };

export type BehaviourFn = (req: RecordedRequest, index: number) => FakeBehaviour;

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** The parsed JSON body (undefined if it was not JSON). */
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests dig into it freely
  receivedAt: number;
}

export interface FakeAnthropicOptions {
  apiKey?: string;
  /** Added to every answer: a fixed-latency mode for benchmarks. */
  latencyMs?: number;
  behaviour?: FakeBehaviour | BehaviourFn;
}

export interface FakeAnthropic {
  /** Base URL for the SDK's baseURL option. */
  url: string;
  apiKey: string;
  requests: RecordedRequest[];
  /** The answer when the queue is empty. */
  setBehaviour(b: FakeBehaviour | BehaviourFn): void;
  /** One-shot answers, used in order before the default behaviour. */
  enqueue(...b: FakeBehaviour[]): void;
  /** Forget requests, queue and prompt cache; back to smart. */
  reset(): void;
  close(): Promise<void>;
}

const tokensOf = (text: string) => Math.max(1, Math.ceil(text.length / 4));

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  if (res.destroyed) return; // the client gave up (timeout) while we were waiting
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'request-id': `req_fake_${Math.random().toString(36).slice(2, 10)}`,
    ...headers,
  });
  res.end(text);
}

function sendError(
  res: ServerResponse,
  status: number,
  type: string,
  message: string,
  headers = {},
  errorCode?: string,
) {
  const error: Record<string, unknown> = { type, message };
  if (errorCode) error.details = { error_code: errorCode };
  sendJson(res, status, { type: 'error', error, request_id: 'req_fake' }, headers);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startFakeAnthropic(opts: FakeAnthropicOptions = {}): Promise<FakeAnthropic> {
  const apiKey = opts.apiKey ?? 'test-key';
  const requests: RecordedRequest[] = [];
  let queue: FakeBehaviour[] = [];
  let fallback: FakeBehaviour | BehaviourFn = opts.behaviour ?? { kind: 'smart' };
  let cachedPrefixes = new Set<string>();
  let counter = 0;

  function message(req: RecordedRequest, content: unknown[], stopReason: string) {
    const body = req.body as {
      model?: string;
      system?: unknown;
      tools?: unknown;
      messages?: unknown;
    };
    // Simulates the prompt cache: the first request with a given tools+system prefix
    // writes it, later ones read it, as the real API reports in `usage`.
    const prefix = JSON.stringify([body.tools, body.system]);
    const key = createHash('sha256').update(prefix).digest('hex');
    const prefixTokens = tokensOf(prefix);
    const hit = cachedPrefixes.has(key);
    cachedPrefixes.add(key);
    counter++;
    return {
      id: `msg_fake_${counter}`,
      type: 'message',
      role: 'assistant',
      model: body.model,
      content,
      stop_reason: stopReason,
      stop_sequence: null,
      usage: {
        input_tokens: tokensOf(JSON.stringify(body.messages ?? '')),
        output_tokens: tokensOf(JSON.stringify(content)),
        cache_creation_input_tokens: hit ? 0 : prefixTokens,
        cache_read_input_tokens: hit ? prefixTokens : 0,
      },
    };
  }

  function toolName(req: RecordedRequest): string {
    const b = req.body as { tool_choice?: { name?: string }; tools?: Array<{ name?: string }> };
    return b.tool_choice?.name ?? b.tools?.[0]?.name ?? 'tool';
  }

  async function answer(
    req: RecordedRequest,
    raw: IncomingMessage,
    res: ServerResponse,
    b: FakeBehaviour,
  ): Promise<void> {
    switch (b.kind) {
      case 'smart':
      case 'tool_use': {
        const input = b.kind === 'smart' ? smartToolInput(req.body) : b.input;
        const block = {
          type: 'tool_use',
          id: `toolu_fake_${counter + 1}`,
          name: toolName(req),
          input,
        };
        sendJson(
          res,
          200,
          message(req, [block], b.kind === 'tool_use' ? (b.stopReason ?? 'tool_use') : 'tool_use'),
        );
        return;
      }
      case 'text':
        sendJson(
          res,
          200,
          message(req, [{ type: 'text', text: b.text ?? 'I think this is for HR.' }], 'end_turn'),
        );
        return;
      case 'max_tokens': {
        const block = {
          type: 'tool_use',
          id: `toolu_fake_${counter + 1}`,
          name: toolName(req),
          input: {},
        };
        sendJson(res, 200, message(req, [block], 'max_tokens'));
        return;
      }
      case 'error': {
        const headers: Record<string, string> = b.retryAfter ? { 'retry-after': b.retryAfter } : {};
        sendError(res, b.status, b.type, b.message ?? b.type, headers, b.errorCode);
        return;
      }
      case 'rate_limited':
        sendError(
          res,
          429,
          'rate_limit_error',
          'Number of request tokens has exceeded your per-minute rate limit',
          {
            'retry-after': String(b.retryAfterSeconds ?? 1),
          },
        );
        return;
      case 'overloaded':
        sendError(res, 529, 'overloaded_error', 'Overloaded');
        return;
      case 'server_error':
        sendError(res, 500, 'api_error', 'Internal server error');
        return;
      case 'delay':
        await sleep(b.ms);
        return answer(req, raw, res, b.then ?? { kind: 'smart' });
      case 'reset':
        raw.socket.destroy();
        return;
    }
  }

  async function handle(raw: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = await readBody(raw);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const rec: RecordedRequest = {
      method: raw.method ?? '',
      path: raw.url ?? '',
      headers: { ...raw.headers },
      body,
      receivedAt: Date.now(),
    };
    requests.push(rec);
    const index = requests.length - 1;

    if (rec.method !== 'POST' || rec.path.split('?')[0] !== '/v1/messages') {
      return sendError(res, 404, 'not_found_error', `no route ${rec.method} ${rec.path}`);
    }
    // The SDK (1.x) sends the key as a bearer token; curl users send x-api-key. Both count.
    const auth = raw.headers.authorization;
    const key =
      raw.headers['x-api-key'] ?? (auth?.startsWith('Bearer ') ? auth.slice(7) : undefined);
    if (key !== apiKey) return sendError(res, 401, 'authentication_error', 'invalid x-api-key');
    if (!raw.headers['anthropic-version']) {
      return sendError(res, 400, 'invalid_request_error', 'anthropic-version header is required');
    }
    const b = body as { model?: unknown; max_tokens?: unknown; messages?: unknown } | undefined;
    if (
      !b ||
      typeof b.model !== 'string' ||
      typeof b.max_tokens !== 'number' ||
      !Array.isArray(b.messages)
    ) {
      return sendError(
        res,
        400,
        'invalid_request_error',
        'model, max_tokens and messages are required',
      );
    }

    const next =
      queue.shift() ?? (typeof fallback === 'function' ? fallback(rec, index) : fallback);
    if (opts.latencyMs) await sleep(opts.latencyMs);
    await answer(rec, raw, res, next);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent && !res.destroyed)
        sendError(res, 500, 'api_error', `fake server bug: ${String(err)}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    apiKey,
    requests,
    setBehaviour(b) {
      fallback = b;
    },
    enqueue(...b) {
      queue.push(...b);
    },
    reset() {
      requests.length = 0;
      queue = [];
      fallback = { kind: 'smart' };
      cachedPrefixes = new Set();
    },
    close() {
      // Delayed answers must not hold the test run open.
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) =>
        server.close((e) => (e ? reject(e) : resolve())),
      );
    },
  };
}
