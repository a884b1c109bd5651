import type { Priority, TicketStatus } from './api.js';

const label = (s: string) => s.replace(/_/g, ' ');

export function StatusBadge({ status }: { status: TicketStatus }) {
  return <span className={`badge status-${status}`}>{label(status)}</span>;
}

export function PriorityBadge({ priority }: { priority: Priority | null }) {
  if (!priority) return <span className="badge muted">no priority yet</span>;
  return (
    <span className={`badge priority-${priority}`} title="priority">
      {priority}
    </span>
  );
}

export function DepartmentBadge({ department }: { department: string | null }) {
  return (
    <span className="badge department" title="department">
      {department ?? 'unrouted'}
    </span>
  );
}

/** How the ticket was categorized (llm, local, rules, human) and how sure it was. */
export function MethodBadge({
  method,
  confidence,
}: {
  method?: string | null;
  confidence?: number | null;
}) {
  if (!method && confidence == null) return null;
  const percent = confidence == null ? '' : ` ${Math.round(confidence * 100)}%`;
  const low = confidence != null && confidence < 0.5;
  return (
    <span
      className={`badge method${low ? ' low' : ''}`}
      title="categorization method and confidence"
    >
      {method ?? '?'}
      {percent}
    </span>
  );
}

export function ReviewBadge({ needsReview }: { needsReview: boolean }) {
  return needsReview ? <span className="badge review">needs review</span> : null;
}
