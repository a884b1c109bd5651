// Shapes shared by every categorizer (Claude, the local model, the fallback wrapper),
// so that the consumer can hold any of them behind one interface.

export interface TicketInput {
  ticketId: string;
  subject: string;
  body: string;
  requesterEmail: string;
}

export interface TokenUsage {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

export interface Categorization {
  department: string;
  category: string;
  priority: string;
  /** 0..1, the categorizer's own estimate that the department is right. */
  confidence: number;
  rationale?: string;
  method: 'llm' | 'local';
  model: string;
  promptVersion: string;
  latencyMs: number;
  tokens: TokenUsage;
  /** The categorizer itself says a human should look (e.g. the local model abstained). */
  needsReview?: boolean;
  /** Set when the fallback answered: the stable error code of the primary's failure. */
  fallbackReason?: string;
}

export interface CategorizeOptions {
  /** Aborts the call (e.g. on shutdown); the result is then an LLM_ABORTED error. */
  signal?: AbortSignal;
}

export interface Categorizer {
  categorize(ticket: TicketInput, options?: CategorizeOptions): Promise<Categorization>;
}

/** The subset of a pino logger this code uses; pino satisfies it. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const ZERO_TOKENS: TokenUsage = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
