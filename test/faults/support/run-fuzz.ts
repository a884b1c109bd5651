// Sends the fuzz cases to intake-api (a few at a time) and sorts the answers: any 5xx
// or dropped connection is a finding; accepted submissions of ours join the audit.
import type { Pipeline } from '../../support/pipeline.js';
import type { FuzzCase } from './fuzz.js';
import type { Submission } from './load.js';

export interface FuzzResult {
  answers: Record<string, number>;
  /** 5xx answers and dropped connections, with the case that caused them. */
  failures: { name: string; status: string; body: string }[];
  accepted: Submission[];
  /** 2xx for a body that is not one of our valid ones (a validation gap). */
  unexpectedlyAccepted: string[];
}

const OVER_LIMIT = 1_048_576;
const bodyBytes = (body: FuzzCase['body']): number =>
  body === undefined ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.length;

export async function runFuzz(
  pipeline: Pipeline,
  cases: readonly FuzzCase[],
  concurrency = 8,
): Promise<FuzzResult> {
  const result: FuzzResult = { answers: {}, failures: [], accepted: [], unexpectedlyAccepted: [] };
  const count = (k: string) => (result.answers[k] = (result.answers[k] ?? 0) + 1);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < cases.length; i = next++) {
      const c = cases[i]!;
      const sentAt = Date.now();
      try {
        const res = await fetch(`${pipeline.intakeUrl}${c.path}`, {
          method: c.method,
          headers: { authorization: `Bearer ${pipeline.apiKey}`, ...c.headers },
          ...(c.body !== undefined ? { body: c.body } : {}),
          signal: AbortSignal.timeout(30_000),
        });
        const text = await res.text();
        count(String(res.status));
        if (res.status >= 500)
          result.failures.push({
            name: c.name,
            status: String(res.status),
            body: text.slice(0, 300),
          });
        if (res.ok && c.method === 'POST' && c.path === '/api/tickets') {
          const id = (JSON.parse(text) as { id?: string }).id;
          if (c.title && c.requester && id) {
            result.accepted.push({
              kind: 'api',
              marker: c.title.split(' ')[0]!,
              title: c.title,
              requester: c.requester,
              id,
              sentAt,
              acceptedAt: Date.now(),
              attempts: 1,
            });
          } else {
            result.unexpectedlyAccepted.push(c.name);
          }
        }
      } catch (err) {
        // A body over the limit (BODY_LIMIT_BYTES, 1 MiB) is answered 413 without being
        // read, and the server closes the connection (RFC 9110 §15.5.14 allows it): a
        // client still uploading can see the reset before the answer. Not a finding —
        // the server's readiness and crash checks after the run still apply.
        if (bodyBytes(c.body) > OVER_LIMIT) {
          count('reset after 413');
          continue;
        }
        count('network');
        result.failures.push({ name: c.name, status: 'network', body: (err as Error).message });
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return result;
}
