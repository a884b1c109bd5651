// Reading the deployment descriptions for the deploy tests: every YAML document under
// deploy/k8s, and the config variable names the apps declare.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { APP_PORTS } from '@mailroom/config';
import { IntakeConfigSchema } from '../../apps/intake-api/src/config.js';
import { ImapPollerConfig } from '../../apps/imap-poller/src/config.js';
import { TicketStoreConfig } from '../../apps/ticket-store/src/config.js';
import { CategorizerConfig } from '../../apps/categorizer/src/config.js';
import { RouterConfig } from '../../apps/router/src/config.js';
import { NotifierConfig } from '../../apps/notifier/src/config.js';
import { AnalyticsConfig } from '../../apps/analytics/src/config.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const K8S_DIR = join(ROOT, 'deploy/k8s');

export type AppName = keyof typeof APP_PORTS;
export const APPS = Object.keys(APP_PORTS) as AppName[];

/** The config schema of each app (apps/<app>/src/config.ts). */
export const APP_SCHEMAS = {
  'intake-api': IntakeConfigSchema,
  'imap-poller': ImapPollerConfig,
  'ticket-store': TicketStoreConfig,
  categorizer: CategorizerConfig,
  router: RouterConfig,
  notifier: NotifierConfig,
  analytics: AnalyticsConfig,
} satisfies Record<AppName, { properties: Record<string, unknown> }>;

export const appVariables = (app: AppName): Set<string> =>
  new Set(Object.keys(APP_SCHEMAS[app].properties));

/** The default of one variable of an app's schema (e.g. its consumer group id). */
export function appDefault(app: AppName, name: string): unknown {
  const property = (APP_SCHEMAS[app].properties as Record<string, { default?: unknown }>)[name];
  if (!property) throw new Error(`${app} declares no ${name}`);
  return property.default;
}

export const allAppVariables = (): Set<string> =>
  new Set(APPS.flatMap((a) => [...appVariables(a)]));

/**
 * Variables the deployments set that no app declares yet. METRICS_HOST: the bind address of
 * the ops server (/metrics, /health, /ready), which listens on 127.0.0.1 today; containers
 * need 0.0.0.0 for probes and scraping. Requested for libs/config's metricsPort fragment.
 */
export const ASSUMED_VARIABLES = new Set<string>();

export interface Manifest {
  file: string;
  doc: Record<string, unknown>;
}

export function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(entry.name) ? [path] : [];
  });
}

/** Every document of every YAML file under `dir`; a syntax error fails with its file. */
export function loadManifests(dir = K8S_DIR): Manifest[] {
  return yamlFiles(dir).flatMap((path) => {
    const file = relative(ROOT, path);
    return parseAllDocuments(readFileSync(path, 'utf8')).flatMap((document) => {
      if (document.errors.length > 0) {
        throw new Error(`${file}: ${document.errors.map((e) => e.message).join('; ')}`);
      }
      const doc: unknown = document.toJS();
      if (doc === null || doc === undefined) return [];
      if (typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`${file}: not a mapping`);
      return [{ file, doc: doc as Record<string, unknown> }];
    });
  });
}

export const kindOf = (m: Manifest) => `${String(m.doc.apiVersion)}/${String(m.doc.kind)}`;
export const nameOf = (m: Manifest) =>
  String((m.doc.metadata as { name?: unknown } | undefined)?.name);
