// The README stays true: every configuration variable of every app and every variable of
// the local stack's config is documented there.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AnalyticsConfig } from '@mailroom/analytics';
import { CategorizerConfig } from '@mailroom/categorizer';
import { ImapPollerConfig } from '@mailroom/imap-poller';
import { IntakeConfigSchema } from '@mailroom/intake-api';
import { NotifierConfig } from '@mailroom/notifier';
import { RouterConfig } from '@mailroom/router';
import { TicketStoreConfig } from '@mailroom/ticket-store';

const root = new URL('../', import.meta.url);
const readme = readFileSync(new URL('README.md', root), 'utf8');

describe('README', () => {
  it('documents every configuration variable of every app', () => {
    const schemas = [
      IntakeConfigSchema,
      ImapPollerConfig,
      TicketStoreConfig,
      CategorizerConfig,
      RouterConfig,
      NotifierConfig,
      AnalyticsConfig,
    ];
    const names = new Set(schemas.flatMap((s) => Object.keys(s.properties)));
    expect(names.size).toBeGreaterThan(50);
    const missing = [...names].filter((n) => !readme.includes(`\`${n}\``));
    expect(missing).toEqual([]);
  });

  it('documents every variable of the local stack', () => {
    const stackEnv = readFileSync(new URL('deploy/local/stack.env', root), 'utf8');
    const names = [...stackEnv.matchAll(/\$\{([A-Z_]+):=/g)].map((m) => m[1]!);
    expect(names.length).toBeGreaterThan(15);
    const missing = names.filter((n) => !readme.includes(n));
    expect(missing).toEqual([]);
  });
});
