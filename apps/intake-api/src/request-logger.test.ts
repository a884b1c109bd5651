import { Writable } from 'node:stream';
import { createLogger } from '@mailroom/observability';
import { describe, expect, it } from 'vitest';
import { lazyChildLogger } from './request-logger.js';

describe('lazyChildLogger', () => {
  it('writes with the request bindings at enabled levels only, redacted like any line', () => {
    const lines: Record<string, unknown>[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    const parent = createLogger({ name: 'test', level: 'info', destination });
    const log = lazyChildLogger(parent, { reqId: 'req-7' }, {});
    log.debug('not written');
    expect(log.level).toBe('info');
    log.error({ apiKey: 'mr_secret', code: 'X' }, 'request failed');
    log.child({ step: 'inner' }).info('from a child');
    expect(lines.map((l) => [l.msg, l.reqId, l.level])).toEqual([
      ['request failed', 'req-7', 'error'],
      ['from a child', 'req-7', 'info'],
    ]);
    expect(lines[0]).toMatchObject({ apiKey: '[redacted]', code: 'X' });
    expect(lines[1]).toMatchObject({ step: 'inner' });
  });
});
