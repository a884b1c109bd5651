import { useEffect, useState, type FormEvent } from 'react';
import {
  PRIORITIES,
  type ApiClient,
  type Categorization,
  type Hints,
  type Priority,
} from './api.js';
import { DepartmentBadge, MethodBadge, PriorityBadge, ReviewBadge } from './badges.js';
import { ErrorNotice } from './error-notice.js';
import { useDebounced } from './hooks.js';

export const CLASSIFY_DEBOUNCE_MS = 400;

interface Props {
  api: ApiClient;
  departments: readonly string[];
  onCreated: (id: string) => void;
  onCancel: () => void;
}

/** The categorizer's preview of what is typed so far (POST /api/classify), debounced. */
function useSuggestion(api: ApiClient, title: string, description: string) {
  const input = useDebounced(
    JSON.stringify({ title: title.trim(), description: description.trim() }),
    CLASSIFY_DEBOUNCE_MS,
  );
  const [suggestion, setSuggestion] = useState<Categorization>();
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    const body = JSON.parse(input) as { title: string; description: string };
    if (!body.title || !body.description) return;
    const controller = new AbortController();
    api.classify(body, controller.signal).then(
      (s) => (setSuggestion(s), setError(undefined)),
      (err: unknown) => controller.signal.aborted || setError(err),
    );
    return () => controller.abort();
  }, [api, input]);
  return { suggestion, error };
}

/** Escape leaves the form while nothing has been typed in it (it would lose the text). */
export function NewTicketForm({ api, departments, onCreated, onCancel }: Props) {
  const [title, setTitle] = useState('');
  const [description, setDescription] = useState('');
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  // '' = take the suggestion: the categorizer decides when the ticket is created.
  const [department, setDepartment] = useState('');
  const [priority, setPriority] = useState<Priority | ''>('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const { suggestion, error: suggestionError } = useSuggestion(api, title, description);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    const hints: Hints = {
      ...(department ? { department } : {}),
      ...(priority ? { priority } : {}),
    };
    try {
      const created = await api.createTicket({
        title: title.trim(),
        description: description.trim(),
        requester: { email: email.trim(), ...(name.trim() ? { name: name.trim() } : {}) },
        ...(Object.keys(hints).length ? { hints } : {}),
      });
      onCreated(created.id);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  return (
    <section
      className="new-ticket"
      aria-labelledby="new-title"
      onKeyDown={(e) => e.key === 'Escape' && !title && !description && onCancel()}
    >
      <h2 id="new-title" tabIndex={-1}>
        New ticket
      </h2>
      <form onSubmit={(e) => void submit(e)}>
        <label>
          Title
          <input
            value={title}
            required
            maxLength={500}
            autoFocus
            onChange={(e) => setTitle(e.target.value)}
          />
        </label>
        <label>
          Description
          <textarea
            value={description}
            required
            rows={6}
            onChange={(e) => setDescription(e.target.value)}
          />
        </label>
        <div className="row">
          <label>
            Requester email
            <input type="email" value={email} required onChange={(e) => setEmail(e.target.value)} />
          </label>
          <label>
            <span>
              Requester name <span className="muted">(optional)</span>
            </span>
            <input value={name} onChange={(e) => setName(e.target.value)} />
          </label>
        </div>
        <section className="suggestion" aria-live="polite" aria-label="Suggested categorization">
          {suggestion ? (
            <p>
              Suggested: <DepartmentBadge department={suggestion.department ?? null} />{' '}
              <PriorityBadge priority={suggestion.priority ?? null} />{' '}
              {suggestion.category ? (
                <span className="badge muted">{suggestion.category}</span>
              ) : null}{' '}
              <MethodBadge method={suggestion.method} confidence={suggestion.confidence} />{' '}
              <ReviewBadge needsReview={suggestion.needsReview ?? false} />
            </p>
          ) : (
            <p className="muted">A suggested department and priority appear here while you type.</p>
          )}
          <ErrorNotice error={suggestionError} what="No suggestion" />
        </section>
        <p className="hint">
          Overrides go with the ticket as hints (department, priority); left on
          &quot;suggested&quot;, the categorizer decides.
        </p>
        <div className="row">
          <label>
            Department
            <select value={department} onChange={(e) => setDepartment(e.target.value)}>
              <option value="">
                suggested{suggestion?.department ? ` (${suggestion.department})` : ''}
              </option>
              {departments.map((d) => (
                <option key={d}>{d}</option>
              ))}
            </select>
          </label>
          <label>
            Priority
            <select value={priority} onChange={(e) => setPriority(e.target.value as Priority | '')}>
              <option value="">
                suggested{suggestion?.priority ? ` (${suggestion.priority})` : ''}
              </option>
              {PRIORITIES.map((p) => (
                <option key={p}>{p}</option>
              ))}
            </select>
          </label>
        </div>
        <ErrorNotice error={error} what="The API refused the ticket" />
        <div className="buttons">
          <button type="submit" disabled={busy}>
            {busy ? 'Creating…' : 'Create ticket'}
          </button>
          <button type="button" className="secondary" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </form>
    </section>
  );
}
