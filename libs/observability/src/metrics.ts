import { collectDefaultMetrics, Registry } from 'prom-client';

export { Registry };

/**
 * A registry per app (never the global one), so several apps can run in one process
 * (the embedded launcher) without clashing metric names. Default process metrics carry
 * the app label; Prometheus adds job/instance.
 */
export function createMetricsRegistry(app: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ app });
  collectDefaultMetrics({ register: registry, prefix: 'mailroom_' });
  return registry;
}

/**
 * The metric of that name already on the registry, else the one `make` registers: two
 * users of one registry (apps in one process, a reload, several consumers) share it
 * instead of failing on a second registration.
 */
export function registeredMetric<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}
