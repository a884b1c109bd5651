import { useState, type MouseEvent } from 'react';
import {
  PRIORITIES,
  STATUSES,
  type ApiClient,
  type Priority,
  type TicketQuery,
  type TicketStatus,
  type TicketSummary,
} from './api.js';
import { DepartmentBadge, MethodBadge, PriorityBadge, ReviewBadge, StatusBadge } from './badges.js';
import { ErrorNotice } from './error-notice.js';
import { navigate, useDebounced, usePoll } from './hooks.js';

const LIST_POLL_MS = 4_000;
const SEARCH_DEBOUNCE_MS = 300;
const PAGE_SIZE = 25;

const ago = (iso: string) => {
  const minutes = Math.round((Date.now() - Date.parse(iso)) / 60_000);
  if (minutes < 1) return 'just now';
  if (minutes < 60) return `${minutes} min ago`;
  if (minutes < 48 * 60) return `${Math.round(minutes / 60)} h ago`;
  return new Date(iso).toLocaleDateString();
};

/** Plain links, so that Enter, middle-click and "open in new tab" all work. */
function open(event: MouseEvent<HTMLAnchorElement>, path: string) {
  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
  event.preventDefault();
  navigate(path);
}

export function TicketList({ items }: { items: readonly TicketSummary[] }) {
  if (items.length === 0) return <p className="empty">No tickets match.</p>;
  return (
    <ul className="tickets">
      {items.map((t) => (
        <li key={t.id} className={t.needsReview ? 'ticket review' : 'ticket'}>
          <a href={`/tickets/${t.number}`} onClick={(e) => open(e, `/tickets/${t.number}`)}>
            <span className="number">#{t.number}</span> <span className="title">{t.title}</span>
          </a>
          <div className="badges">
            <StatusBadge status={t.status} />
            <PriorityBadge priority={t.priority} />
            <DepartmentBadge department={t.department} />
            <MethodBadge method={t.categorizationMethod} confidence={t.confidence} />
            <ReviewBadge needsReview={t.needsReview} />
          </div>
          <div className="meta">
            {t.requester.name ?? t.requester.email} · {t.channel} · {ago(t.createdAt)}
            {t.assignee ? ` · assigned to ${t.assignee}` : ''}
          </div>
        </li>
      ))}
    </ul>
  );
}

/** The queue: the API's filters and full-text search, refreshed every few seconds. */
export function TicketQueue({
  api,
  departments,
}: {
  api: ApiClient;
  departments: readonly string[];
}) {
  const [search, setSearch] = useState('');
  const [status, setStatus] = useState<TicketStatus | ''>('');
  const [priority, setPriority] = useState<Priority | ''>('');
  const [department, setDepartment] = useState('');
  const [sort, setSort] = useState<NonNullable<TicketQuery['sort']>>('created_at_desc');
  const [cursors, setCursors] = useState<string[]>([]);
  const settledSearch = useDebounced(search.trim(), SEARCH_DEBOUNCE_MS);

  const query: TicketQuery = {
    ...(status ? { status } : {}),
    ...(priority ? { priority } : {}),
    ...(department ? { department } : {}),
    ...(settledSearch ? { search: settledSearch } : {}),
    sort,
    limit: PAGE_SIZE,
    ...(cursors.length ? { cursor: cursors[cursors.length - 1] } : {}),
  };
  const { data, error } = usePoll(
    (signal) => api.listTickets(query, signal),
    LIST_POLL_MS,
    JSON.stringify(query),
  );
  // A new filter starts again from the first page.
  const filter =
    <T,>(set: (v: T) => void) =>
    (v: T) => {
      setCursors([]);
      set(v);
    };

  return (
    <section className="queue" aria-labelledby="queue-title">
      <h2 id="queue-title" tabIndex={-1}>
        Tickets
      </h2>
      <form className="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          Search
          <input
            type="search"
            value={search}
            placeholder="words, phrases, -exclude"
            onChange={(e) => filter(setSearch)(e.target.value)}
            onKeyDown={(e) => e.key === 'Escape' && filter(setSearch)('')}
          />
        </label>
        <label>
          Status
          <select
            value={status}
            onChange={(e) => filter(setStatus)(e.target.value as TicketStatus | '')}
          >
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s.replace('_', ' ')}
              </option>
            ))}
          </select>
        </label>
        <label>
          Priority
          <select
            value={priority}
            onChange={(e) => filter(setPriority)(e.target.value as Priority | '')}
          >
            <option value="">any</option>
            {PRIORITIES.map((p) => (
              <option key={p}>{p}</option>
            ))}
          </select>
        </label>
        <label>
          Department
          <select value={department} onChange={(e) => filter(setDepartment)(e.target.value)}>
            <option value="">any</option>
            {departments.map((d) => (
              <option key={d}>{d}</option>
            ))}
          </select>
        </label>
        <label>
          Sort
          <select value={sort} onChange={(e) => filter(setSort)(e.target.value as typeof sort)}>
            <option value="created_at_desc">newest first</option>
            <option value="created_at_asc">oldest first</option>
            <option value="priority">priority</option>
          </select>
        </label>
      </form>
      <ErrorNotice error={error} what="Could not load the tickets" />
      {data ? <TicketList items={data.items} /> : error ? null : <p className="empty">Loading…</p>}
      <nav className="pages" aria-label="Pages">
        <button
          type="button"
          disabled={!cursors.length}
          onClick={() => setCursors((c) => c.slice(0, -1))}
        >
          Previous page
        </button>
        <button
          type="button"
          disabled={!data?.nextCursor}
          onClick={() => data?.nextCursor && setCursors((c) => [...c, data.nextCursor!])}
        >
          Next page
        </button>
      </nav>
    </section>
  );
}
