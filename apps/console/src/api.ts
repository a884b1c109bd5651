// The typed client of the intake API (apps/intake-api/src/schemas.ts and routes/*.ts
// are the source of truth for these shapes). Every failure becomes an ApiError that
// carries the API's own `error.code` and `error.message`, which the UI shows as is.

export type TicketStatus = 'pending' | 'in_progress' | 'resolved' | 'closed';
export type Priority = 'low' | 'medium' | 'high' | 'critical';
export const STATUSES: readonly TicketStatus[] = ['pending', 'in_progress', 'resolved', 'closed'];
export const PRIORITIES: readonly Priority[] = ['critical', 'high', 'medium', 'low'];

export interface Person {
  email: string;
  name: string | null;
}

export interface TicketSummary {
  id: string;
  number: number;
  title: string;
  status: TicketStatus;
  priority: Priority | null;
  category: string | null;
  department: string | null;
  assignee: string | null;
  requester: Person;
  channel: 'email' | 'api';
  needsReview: boolean;
  createdAt: string;
  updatedAt: string;
  routedAt: string | null;
  /** Shown when the API lists them (the detail always has them in `categorization`). */
  categorizationMethod?: string | null;
  confidence?: number | null;
}

export interface Categorization {
  department?: string;
  category?: string;
  priority?: Priority;
  confidence?: number;
  method?: string;
  model?: string;
  needsReview?: boolean;
  fallbackReason?: string;
}

export interface TicketMessage {
  id: string;
  direction: string;
  author: Person;
  role: string;
  subject: string | null;
  text: string;
  replyText: string;
  automatedKind: string | null;
  createdAt: string;
}

export interface Attachment {
  blobId?: string;
  url?: string;
  filename: string;
  contentType: string;
  size: number;
}

export interface StatusChange {
  eventId: string;
  from: string;
  to: string;
  actor: { type: string; id: string };
  reason: string | null;
  at: string;
}

export interface RoutingEntry {
  eventId: string;
  kind: string;
  department: string;
  previousDepartment: string | null;
  rule: string;
  confidence: number | null;
  decidedBy: string;
  reason: string | null;
  at: string;
}

export interface TicketDetail extends TicketSummary {
  description: string;
  attachments: Attachment[];
  categorization: Categorization | null;
  messages: TicketMessage[];
  statusHistory: StatusChange[];
  routingHistory: RoutingEntry[];
}

export interface TicketQuery {
  status?: TicketStatus;
  priority?: Priority;
  department?: string;
  search?: string;
  sort?: 'created_at_desc' | 'created_at_asc' | 'priority';
  limit?: number;
  cursor?: string;
}

export interface TicketPage {
  items: TicketSummary[];
  nextCursor: string | null;
}

export interface Department {
  name: string;
  description: string | null;
  openTickets: number;
}

export interface Summary {
  total: number;
  open: number;
  byStatus: Record<string, number>;
  averageConfidence: number | null;
  last24h: { created: number; resolved: number };
}

export interface Stats {
  total: number;
  open: number;
  averagePerDay: number;
  byPriority: Record<string, number>;
}

export interface Hints {
  department?: string;
  category?: string;
  priority?: Priority;
}

export interface NewTicket {
  title: string;
  description: string;
  requester: { email: string; name?: string };
  hints?: Hints;
}

export interface TicketChanges {
  status?: TicketStatus;
  priority?: Priority;
  assignee?: string | null;
  reason?: string;
}

export interface CommandAccepted {
  commandId: string;
  commandIds: string[];
}

export interface CommandStatus {
  outcome: 'pending' | 'applied' | 'rejected';
  code: string | null;
  reason: string | null;
}

/** What the API (or the way to it) refused: the API's code and message, kept as data. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retriable: boolean,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface ApiClientOptions {
  /** Where the API is; default: the page's own origin (intake-api serves the console). */
  baseUrl?: string;
  fetch?: typeof fetch;
}

export type ApiClient = ReturnType<typeof createApiClient>;

function queryString(q: TicketQuery): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(q)) {
    if (value !== undefined && value !== '') params.set(name, String(value));
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}

async function errorOf(res: Response): Promise<ApiError> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as {
      error?: { code?: string; message?: string; retriable?: boolean };
    };
    if (body.error?.message) {
      return new ApiError(
        res.status,
        body.error.code ?? 'HTTP_ERROR',
        body.error.message,
        body.error.retriable ?? false,
      );
    }
  } catch {
    // Not JSON (a proxy's error page): the status line says what there is to say.
  }
  return new ApiError(
    res.status,
    'HTTP_ERROR',
    `HTTP ${res.status} ${res.statusText}`.trim(),
    res.status >= 500,
  );
}

export function createApiClient(apiKey: string, options: ApiClientOptions = {}) {
  const base = options.baseUrl ?? '';
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));

  async function request<T>(
    method: string,
    path: string,
    body?: unknown,
    signal?: AbortSignal,
  ): Promise<T> {
    let res: Response;
    try {
      res = await doFetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${apiKey}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new ApiError(0, 'NETWORK', `cannot reach the API: ${(err as Error).message}`, true);
    }
    if (!res.ok) throw await errorOf(res);
    return (await res.json()) as T;
  }

  const ref = (idOrNumber: string | number) => encodeURIComponent(String(idOrNumber));
  return {
    listTickets: (q: TicketQuery, signal?: AbortSignal) =>
      request<TicketPage>('GET', `/api/tickets${queryString(q)}`, undefined, signal),
    getTicket: (idOrNumber: string | number, signal?: AbortSignal) =>
      request<TicketDetail>('GET', `/api/tickets/${ref(idOrNumber)}`, undefined, signal),
    createTicket: (ticket: NewTicket) =>
      request<{ id: string; statusUrl: string }>('POST', '/api/tickets', ticket),
    classify: (input: { title: string; description: string }, signal?: AbortSignal) =>
      request<Categorization>('POST', '/api/classify', input, signal),
    changeStatus: (id: string, status: TicketStatus, reason?: string) =>
      request<CommandAccepted>(
        'PUT',
        `/api/tickets/${ref(id)}/status`,
        reason ? { status, reason } : { status },
      ),
    updateTicket: (id: string, changes: TicketChanges) =>
      request<CommandAccepted>('PATCH', `/api/tickets/${ref(id)}`, changes),
    reroute: (id: string, department: string, reason: string) =>
      request<CommandAccepted>('PUT', `/api/route/${ref(id)}`, { department, reason }),
    commandStatus: (commandId: string) =>
      request<CommandStatus>('GET', `/api/commands/${ref(commandId)}`),
    departments: (signal?: AbortSignal) =>
      request<{ items: Department[] }>('GET', '/api/departments', undefined, signal),
    summary: (signal?: AbortSignal) =>
      request<Summary>('GET', '/api/dashboard/summary', undefined, signal),
    stats: (signal?: AbortSignal) => request<Stats>('GET', '/api/tickets/stats', undefined, signal),
  };
}

/** The message to show for any error: the API's own words when it gave some. */
export const messageOf = (err: unknown): string =>
  err instanceof Error ? err.message : String(err);
