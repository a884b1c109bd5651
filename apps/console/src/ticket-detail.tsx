import { useEffect, useRef, useState } from 'react';
import {
  ApiError,
  type ApiClient,
  type Attachment,
  type TicketDetail,
  type TicketMessage,
} from './api.js';
import { DepartmentBadge, MethodBadge, PriorityBadge, ReviewBadge, StatusBadge } from './badges.js';
import { ErrorNotice } from './error-notice.js';
import { navigate, usePoll } from './hooks.js';
import { TicketActions } from './ticket-actions.js';

const DETAIL_POLL_MS = 3_000;
const when = (iso: string) => new Date(iso).toLocaleString();

function Message({ message }: { message: TicketMessage }) {
  const [full, setFull] = useState(false);
  // The extracted reply is what the person wrote this time; the original keeps quotes and signatures.
  const differs = message.text.trim() !== message.replyText.trim();
  return (
    <article className={`message ${message.direction}`}>
      <header>
        <strong>{message.author.name ?? message.author.email}</strong> ({message.role}) ·{' '}
        {when(message.createdAt)}
        {message.automatedKind ? (
          <span className="badge muted">{message.automatedKind}</span>
        ) : null}
      </header>
      {message.subject ? <div className="subject">{message.subject}</div> : null}
      <pre className="body">{full ? message.text : message.replyText || message.text}</pre>
      {differs ? (
        <button
          type="button"
          className="link"
          aria-expanded={full}
          onClick={() => setFull((f) => !f)}
        >
          {full ? 'Show the reply only' : 'Show the full original'}
        </button>
      ) : null}
    </article>
  );
}

const size = (bytes: number) =>
  bytes < 1024
    ? `${bytes} B`
    : bytes < 1_048_576
      ? `${(bytes / 1024).toFixed(1)} KB`
      : `${(bytes / 1_048_576).toFixed(1)} MB`;

function Attachments({ items }: { items: readonly Attachment[] }) {
  if (!items.length) return null;
  return (
    <section aria-labelledby="attachments-title">
      <h3 id="attachments-title">Attachments</h3>
      <ul className="attachments">
        {items.map((a, i) => (
          <li key={a.blobId ?? a.url ?? i}>
            {a.url ? <a href={a.url}>{a.filename}</a> : <span>{a.filename}</span>} · {a.contentType}{' '}
            · {size(a.size)}
            {a.blobId ? <span className="muted"> · blob {a.blobId.slice(0, 12)}</span> : null}
          </li>
        ))}
      </ul>
    </section>
  );
}

function History({ ticket }: { ticket: TicketDetail }) {
  const rows = [
    ...ticket.routingHistory.map((r) => ({
      key: r.eventId,
      at: r.at,
      what: `${r.kind}: ${r.previousDepartment ? `${r.previousDepartment} → ` : ''}${r.department}`,
      who: r.decidedBy,
      why: [
        r.rule,
        r.confidence == null ? '' : `${Math.round(r.confidence * 100)}%`,
        r.reason ?? '',
      ]
        .filter(Boolean)
        .join(' · '),
    })),
    ...ticket.statusHistory.map((s) => ({
      key: s.eventId,
      at: s.at,
      what: `status: ${s.from} → ${s.to}`,
      who: `${s.actor.type} ${s.actor.id}`,
      why: s.reason ?? '',
    })),
  ].sort((a, b) => a.at.localeCompare(b.at));
  return (
    <section aria-labelledby="history-title">
      <h3 id="history-title">Routing and status history</h3>
      {rows.length ? (
        <ol className="history">
          {rows.map((r) => (
            <li key={r.key}>
              <time dateTime={r.at}>{when(r.at)}</time> <strong>{r.what}</strong> by {r.who}
              {r.why ? <span className="muted"> — {r.why}</span> : null}
            </li>
          ))}
        </ol>
      ) : (
        <p className="muted">Not routed yet.</p>
      )}
    </section>
  );
}

/** One ticket: its thread, attachments, history and what an agent can change. */
export function TicketView({
  api,
  idOrNumber,
  departments,
}: {
  api: ApiClient;
  idOrNumber: string;
  departments: readonly string[];
}) {
  const {
    data: ticket,
    error,
    refresh,
  } = usePoll((signal) => api.getTicket(idOrNumber, signal), DETAIL_POLL_MS, idOrNumber);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [ticket?.id]);
  // Escape goes back to the queue, unless it is leaving a field being edited.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const field = e.target instanceof Element && e.target.closest('input, select, textarea');
      if (e.key === 'Escape' && !field && !e.defaultPrevented) navigate('/');
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
  // A ticket just submitted is stored a moment later: a 404 then means "not yet".
  const pending = error instanceof ApiError && error.status === 404 && !ticket;

  return (
    <section className="detail">
      <p>
        <a href="/" onClick={(e) => (e.preventDefault(), navigate('/'))}>
          ← All tickets
        </a>
      </p>
      {pending ? (
        <p className="notice">Waiting for the ticket to be stored…</p>
      ) : (
        <ErrorNotice error={error} what="Could not load the ticket" />
      )}
      {ticket ? (
        <>
          <h2 ref={heading} tabIndex={-1}>
            #{ticket.number} {ticket.title}
          </h2>
          <div className="badges">
            <StatusBadge status={ticket.status} />
            <PriorityBadge priority={ticket.priority} />
            <DepartmentBadge department={ticket.department} />
            <MethodBadge
              method={ticket.categorization?.method}
              confidence={ticket.categorization?.confidence}
            />
            <ReviewBadge needsReview={ticket.needsReview} />
            {ticket.category ? <span className="badge muted">{ticket.category}</span> : null}
          </div>
          <p className="meta">
            From{' '}
            {ticket.requester.name
              ? `${ticket.requester.name} <${ticket.requester.email}>`
              : ticket.requester.email}{' '}
            via {ticket.channel} · {when(ticket.createdAt)}
            {ticket.assignee ? ` · assigned to ${ticket.assignee}` : ' · unassigned'}
          </p>
          <TicketActions
            key={ticket.id}
            api={api}
            ticket={ticket}
            departments={departments}
            onChanged={refresh}
          />
          <section aria-labelledby="thread-title">
            <h3 id="thread-title">Request and thread</h3>
            {/* An API ticket's first message repeats its description: shown once. */}
            {ticket.messages.some((m) => m.text.trim() === ticket.description.trim()) ? null : (
              <pre className="body description">{ticket.description}</pre>
            )}
            {ticket.messages.map((m) => (
              <Message key={m.id} message={m} />
            ))}
          </section>
          <Attachments items={ticket.attachments} />
          <History ticket={ticket} />
        </>
      ) : null}
    </section>
  );
}
