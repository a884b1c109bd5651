import type { FastifyInstance } from 'fastify';
import { badRequest } from './errors.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The JSON path of the first string (or key) holding a NUL character, if any. */
export function findNul(value: unknown, path = ''): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path || '/' : undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const hit = findNul(value[i], `${path}/${i}`);
      if (hit) return hit;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k.includes('\u0000')) return `${path}/${k.replaceAll('\u0000', '\\u0000')}`;
      const hit = findNul(v, `${path}/${k}`);
      if (hit) return hit;
    }
  }
  return undefined;
}

/**
 * Replaces Fastify's JSON parser with a stricter one: bytes that are not UTF-8 are
 * refused (the default decoder would silently turn them into U+FFFD), and so are NUL
 * characters anywhere in the document (Postgres text cannot hold them, and a record
 * the consumers cannot store must not reach Kafka). Prototype poisoning is refused by
 * Fastify's own parser, which this one delegates to.
 */
export function installJsonParser(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    let text: string;
    try {
      text = utf8.decode(body as Buffer);
    } catch {
      done(badRequest('INVALID_UTF8', 'the request body is not valid UTF-8'), undefined);
      return;
    }
    void parseJson(request, text, (err, value) => {
      if (err) {
        done(badRequest('INVALID_JSON', `the request body is not valid JSON: ${err.message}`));
        return;
      }
      // JSON carries a NUL only as the escape \u0000 (a raw one is invalid JSON): no
      // escape in the text, no walk over the document.
      const nul = text.includes('\\u0000') ? findNul(value) : undefined;
      if (nul) {
        done(
          badRequest('NUL_CHARACTER', `NUL characters are not accepted (at ${nul})`, [
            { field: `body${nul === '/' ? '' : nul}`, reason: 'must not contain NUL (\\u0000)' },
          ]),
        );
        return;
      }
      done(null, value);
    });
  });
}
