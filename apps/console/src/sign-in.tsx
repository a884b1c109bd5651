import { useState, type FormEvent } from 'react';
import { createApiClient, type ApiClientOptions } from './api.js';
import { ErrorNotice } from './error-notice.js';

interface Props {
  onSignIn: (key: string) => void;
  /** Why the last session ended (the API refused the key), if it did. */
  notice?: string;
  clientOptions?: ApiClientOptions;
}

/** Asks for an agent API key and checks it against the API before keeping it. */
export function SignIn({ onSignIn, notice, clientOptions }: Props) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      // The smallest request that needs the agent scope: an intake-only key is refused here.
      await createApiClient(key.trim(), clientOptions).listTickets({ limit: 1 });
      onSignIn(key.trim());
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  return (
    <main className="sign-in">
      <h1>mailroom console</h1>
      <form onSubmit={(e) => void submit(e)} aria-busy={busy}>
        <label htmlFor="api-key">Agent API key</label>
        <input
          id="api-key"
          type="password"
          autoComplete="current-password"
          autoFocus
          required
          value={key}
          onChange={(e) => setKey(e.target.value)}
        />
        <p className="hint">Kept in this tab only (session storage); signing out forgets it.</p>
        {notice ? <p className="notice">{notice}</p> : null}
        <ErrorNotice error={error} what="Sign-in refused" />
        <button type="submit" disabled={busy || !key.trim()}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
