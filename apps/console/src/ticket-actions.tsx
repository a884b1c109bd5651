import { useState, type FormEvent } from 'react';
import {
  ApiError,
  PRIORITIES,
  STATUSES,
  type ApiClient,
  type CommandAccepted,
  type Priority,
  type TicketDetail,
  type TicketStatus,
} from './api.js';
import { ErrorNotice } from './error-notice.js';

const COMMAND_WAIT_MS = 20_000;
const COMMAND_POLL_MS = 500;

/**
 * Sends a command and follows it: the API answers 202 once it is on Kafka, and
 * ticket-store may still reject it (a transition no longer allowed): that rejection
 * is shown like any refusal of the API.
 */
function useCommand(api: ApiClient, onChanged: () => void) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [done, setDone] = useState('');

  const run = async (event: FormEvent, what: string, send: () => Promise<CommandAccepted>) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    setDone('');
    try {
      const accepted = await send();
      const deadline = Date.now() + COMMAND_WAIT_MS;
      for (const id of accepted.commandIds) {
        for (;;) {
          const status = await api.commandStatus(id);
          if (status.outcome === 'rejected') {
            throw new ApiError(
              409,
              status.code ?? 'COMMAND_REJECTED',
              status.reason ?? 'the change was rejected',
              false,
            );
          }
          if (status.outcome === 'applied') break;
          if (Date.now() > deadline) {
            setDone(`${what}: sent, not applied yet`);
            return;
          }
          await new Promise((r) => setTimeout(r, COMMAND_POLL_MS));
        }
      }
      setDone(`${what}: done`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
      onChanged();
    }
  };
  return { busy, error, done, run };
}

interface Props {
  api: ApiClient;
  ticket: TicketDetail;
  departments: readonly string[];
  onChanged: () => void;
}

export function TicketActions({ api, ticket, departments, onChanged }: Props) {
  const { busy, error, done, run } = useCommand(api, onChanged);
  const [status, setStatus] = useState<TicketStatus>(ticket.status);
  const [statusReason, setStatusReason] = useState('');
  const [priority, setPriority] = useState<Priority | ''>(ticket.priority ?? '');
  const [assignee, setAssignee] = useState(ticket.assignee ?? '');
  const [department, setDepartment] = useState(ticket.department ?? '');
  const [routeReason, setRouteReason] = useState('');

  const changeStatus = (e: FormEvent) =>
    void run(e, `Status ${status.replace('_', ' ')}`, () =>
      api.changeStatus(ticket.id, status, statusReason.trim() || undefined),
    );
  const update = (e: FormEvent) =>
    void run(e, 'Priority and assignee', () =>
      api.updateTicket(ticket.id, {
        ...(priority && priority !== ticket.priority ? { priority } : {}),
        ...(assignee.trim() !== (ticket.assignee ?? '')
          ? { assignee: assignee.trim() || null }
          : {}),
      }),
    );
  const reroute = (e: FormEvent) =>
    void run(e, `Rerouted to ${department}`, () =>
      api.reroute(ticket.id, department, routeReason.trim()),
    );
  const unchanged =
    (priority || null) === ticket.priority && assignee.trim() === (ticket.assignee ?? '');

  return (
    <section className="actions" aria-label="Change the ticket" aria-busy={busy}>
      <form onSubmit={changeStatus}>
        <label>
          Status
          <select value={status} onChange={(e) => setStatus(e.target.value as TicketStatus)}>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s.replace('_', ' ')}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>
            Reason <span className="muted">(optional)</span>
          </span>
          <input value={statusReason} onChange={(e) => setStatusReason(e.target.value)} />
        </label>
        <button type="submit" disabled={busy || status === ticket.status}>
          Change status
        </button>
      </form>
      <form onSubmit={update}>
        <label>
          Priority
          <select value={priority} onChange={(e) => setPriority(e.target.value as Priority)}>
            {ticket.priority ? null : <option value="">none yet</option>}
            {PRIORITIES.map((p) => (
              <option key={p}>{p}</option>
            ))}
          </select>
        </label>
        <label>
          Assignee
          <input
            value={assignee}
            placeholder="agent name or email"
            onChange={(e) => setAssignee(e.target.value)}
          />
        </label>
        <button type="submit" disabled={busy || unchanged}>
          Save
        </button>
      </form>
      <form onSubmit={reroute}>
        <label>
          Department
          <select value={department} onChange={(e) => setDepartment(e.target.value)}>
            {ticket.department ? null : <option value="">choose…</option>}
            {departments.map((d) => (
              <option key={d}>{d}</option>
            ))}
          </select>
        </label>
        <label>
          Reason for rerouting
          <input value={routeReason} required onChange={(e) => setRouteReason(e.target.value)} />
        </label>
        <button
          type="submit"
          disabled={busy || !department || department === ticket.department || !routeReason.trim()}
        >
          Reroute
        </button>
      </form>
      <ErrorNotice error={error} what="The API refused the change" />
      {done ? (
        <p className="notice" role="status">
          {done}
        </p>
      ) : null}
    </section>
  );
}
