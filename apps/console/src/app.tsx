import { useEffect, useMemo, useState, type MouseEvent } from 'react';
import { createApiClient, type ApiClientOptions } from './api.js';
import { navigate, usePath, usePoll } from './hooks.js';
import { NewTicketForm } from './new-ticket.js';
import { SignIn } from './sign-in.js';
import { StatsHeader } from './stats-header.js';
import { TicketView } from './ticket-detail.js';
import { TicketQueue } from './ticket-list.js';

const KEY_ITEM = 'mailroom.console.apiKey';
const DEPARTMENTS_POLL_MS = 60_000;

function link(path: string) {
  return {
    href: path,
    onClick: (e: MouseEvent<HTMLAnchorElement>) => {
      e.preventDefault();
      navigate(path);
    },
  };
}

/** The signed-in console: stats, navigation and one of its three screens. */
function Console({
  apiKey,
  onSignOut,
  clientOptions,
}: {
  apiKey: string;
  onSignOut: (notice?: string) => void;
  clientOptions?: ApiClientOptions;
}) {
  const api = useMemo(() => {
    const base = clientOptions?.fetch ?? ((input, init) => fetch(input, init));
    // A key revoked while the tab is open: back to the sign-in, saying why.
    const guarded: typeof fetch = async (input, init) => {
      const res = await base(input, init);
      if (res.status === 401) onSignOut('The API no longer accepts this key: sign in again.');
      return res;
    };
    return createApiClient(apiKey, { ...clientOptions, fetch: guarded });
  }, [apiKey, clientOptions, onSignOut]);
  const path = usePath();
  const { data } = usePoll((signal) => api.departments(signal), DEPARTMENTS_POLL_MS, 'departments');
  const departments = useMemo(() => (data?.items ?? []).map((d) => d.name), [data]);
  const ticketRef = /^\/tickets\/([^/]+)$/.exec(path)?.[1];

  useEffect(() => {
    if (path !== '/new') document.querySelector<HTMLElement>('main h2')?.focus();
  }, [path]);

  return (
    <>
      <header className="top">
        <a className="brand" {...link('/')}>
          mailroom
        </a>
        <nav aria-label="Main">
          <a {...link('/')} aria-current={path === '/' ? 'page' : undefined}>
            Tickets
          </a>
          <a {...link('/new')} aria-current={path === '/new' ? 'page' : undefined}>
            New ticket
          </a>
          <button type="button" className="secondary" onClick={() => onSignOut()}>
            Sign out
          </button>
        </nav>
      </header>
      <StatsHeader api={api} />
      <main>
        {path === '/new' ? (
          <NewTicketForm
            api={api}
            departments={departments}
            onCreated={(id) => navigate(`/tickets/${id}`)}
            onCancel={() => navigate('/')}
          />
        ) : ticketRef ? (
          <TicketView
            api={api}
            idOrNumber={decodeURIComponent(ticketRef)}
            departments={departments}
          />
        ) : (
          <TicketQueue api={api} departments={departments} />
        )}
      </main>
    </>
  );
}

/** Signed out: the key form; signed in: the console. The key lives in this tab only. */
export function App({ clientOptions }: { clientOptions?: ApiClientOptions }) {
  const [apiKey, setApiKey] = useState(() => sessionStorage.getItem(KEY_ITEM));
  const [notice, setNotice] = useState<string>();
  const signOut = useMemo(
    () => (why?: string) => {
      sessionStorage.removeItem(KEY_ITEM);
      setNotice(why);
      setApiKey(null);
    },
    [],
  );
  if (!apiKey) {
    return (
      <SignIn
        notice={notice}
        clientOptions={clientOptions}
        onSignIn={(key) => {
          sessionStorage.setItem(KEY_ITEM, key);
          setNotice(undefined);
          setApiKey(key);
        }}
      />
    );
  }
  return <Console apiKey={apiKey} onSignOut={signOut} clientOptions={clientOptions} />;
}
