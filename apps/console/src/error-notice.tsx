import { ApiError, messageOf } from './api.js';

/** The API's refusal in its own words, announced to screen readers. */
export function ErrorNotice({ error, what }: { error: unknown; what?: string }) {
  if (!error) return null;
  const code = error instanceof ApiError ? error.code : undefined;
  return (
    <div className="error" role="alert">
      {what ? <strong>{what}: </strong> : null}
      {messageOf(error)}
      {code ? <span className="code"> ({code})</span> : null}
    </div>
  );
}
