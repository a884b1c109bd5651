import type { ApiClient } from './api.js';
import { ErrorNotice } from './error-notice.js';
import { usePoll } from './hooks.js';

const STATS_POLL_MS = 15_000;

/** A few figures from the dashboard endpoints (the analytics rollups). */
export function StatsHeader({ api }: { api: ApiClient }) {
  const { data, error } = usePoll(
    async (signal) => {
      const [summary, stats] = await Promise.all([api.summary(signal), api.stats(signal)]);
      return { summary, stats };
    },
    STATS_POLL_MS,
    'stats',
  );
  const figures: [string, string][] = data
    ? [
        ['open', String(data.summary.open)],
        ['total', String(data.summary.total)],
        ['new 24 h', String(data.summary.last24h.created)],
        ['resolved 24 h', String(data.summary.last24h.resolved)],
        ['critical', String(data.stats.byPriority.critical ?? 0)],
        ['per day', data.stats.averagePerDay.toFixed(1)],
        [
          'confidence',
          data.summary.averageConfidence == null
            ? '–'
            : `${Math.round(data.summary.averageConfidence * 100)}%`,
        ],
      ]
    : [];
  return (
    <section className="stats" aria-label="Ticket statistics">
      {figures.map(([name, value]) => (
        <div key={name} className="figure">
          <span className="value">{value}</span>
          <span className="name">{name}</span>
        </div>
      ))}
      {error ? <ErrorNotice error={error} what="Statistics" /> : null}
    </section>
  );
}
