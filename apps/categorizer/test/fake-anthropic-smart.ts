// The fake server's "smart" answer: picks department, category and priority by
// keywords, from the enums of the request's own tool schema (so a custom taxonomy
// works) and from the text inside <ticket> only, like a model that follows the
// instruction to treat the ticket as data. It makes happy-path tests meaningful; it
// proves nothing about how a real model resists prompt injection.

const DEPARTMENT_WORDS: Record<string, string[]> = {
  it: [
    'password',
    'laptop',
    'vpn',
    'login',
    'log in',
    'printer',
    'software',
    'install',
    'wifi',
    'network',
    'computer',
    'outlook',
    'monitor',
    'boot',
    'server',
    'email account',
  ],
  hr: [
    'vacation',
    'holiday',
    'leave',
    'sick',
    'benefits',
    'onboarding',
    'contract',
    'hiring',
    'recruit',
    'parental',
    'harass',
  ],
  facilities: [
    'office',
    'desk',
    'heating',
    'air conditioning',
    'light',
    'parking',
    'meeting room',
    'cleaning',
    'chair',
    'building',
    'elevator',
    'leak',
    'badge',
    'key',
  ],
  finance: [
    'invoice',
    'refund',
    'payment',
    'charged',
    'billing',
    'expense',
    'reimburse',
    'budget',
    'purchase order',
    'payroll',
  ],
};

const CATEGORY_WORDS: Record<string, string[]> = {
  billing: ['invoice', 'refund', 'payment', 'charged', 'billing', 'price', 'expense', 'reimburse'],
  account: ['password', 'login', 'log in', 'account', 'access', 'locked', 'username', 'permission'],
  technical: [
    'error',
    'crash',
    'broken',
    'not working',
    "doesn't work",
    "won't",
    'install',
    'vpn',
    'printer',
    'boot',
    'leak',
  ],
};

const PRIORITY_WORDS: Record<string, string[]> = {
  critical: ['outage', 'everyone', 'all users', 'security breach', 'data loss', 'production down'],
  high: ['urgent', 'asap', 'cannot work', "can't work", 'blocked', 'deadline', 'immediately'],
  low: ['question', 'when you have time', 'no rush', 'fyi', 'wondering'],
};

function count(text: string, words: string[]): number {
  return words.reduce((n, w) => n + (text.includes(w) ? 1 : 0), 0);
}

/** Best-scoring enum value whose name matches a keyword group; else the default. */
function best(
  text: string,
  values: string[],
  groups: Record<string, string[]>,
  fallback: string,
): [string, number] {
  let choice = fallback;
  let top = 0;
  for (const value of values) {
    const lower = value.toLowerCase();
    const group = Object.keys(groups).find(
      (g) => lower === g || lower.split(/\W+/).includes(g) || lower.startsWith(g),
    );
    const score = group ? count(text, groups[group] ?? []) : 0;
    if (score > top) [choice, top] = [value, score];
  }
  return [choice, top];
}

/** Reads a nested property of an untyped JSON value; undefined on any miss. */
function dig(value: unknown, ...path: Array<string | number>): unknown {
  let cur = value;
  for (const key of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string | number, unknown>)[key];
  }
  return cur;
}

function enumOf(body: unknown, field: string): string[] {
  const values = dig(body, 'tools', 0, 'input_schema', 'properties', field, 'enum');
  return Array.isArray(values) ? values.filter((v): v is string => typeof v === 'string') : [];
}

function ticketText(body: unknown): string {
  const messages = dig(body, 'messages');
  const content = Array.isArray(messages) ? dig(messages.at(-1), 'content') : undefined;
  const text =
    typeof content === 'string'
      ? content
      : Array.isArray(content)
        ? content
            .map((c) => dig(c, 'text'))
            .filter((t) => typeof t === 'string')
            .join('\n')
        : '';
  const m = /<ticket[^>]*>([\s\S]*)<\/ticket>/.exec(text);
  return (m?.[1] ?? text).toLowerCase();
}

export function smartToolInput(body: unknown): Record<string, unknown> {
  const text = ticketText(body);
  const departments = enumOf(body, 'department');
  const categories = enumOf(body, 'category');
  const priorities = enumOf(body, 'priority');
  const general =
    departments.find((d) => /general|other/i.test(d)) ?? departments.at(-1) ?? 'General';
  const [department, score] = best(text, departments, DEPARTMENT_WORDS, general);
  const [category] = best(
    text,
    categories,
    CATEGORY_WORDS,
    categories.find((c) => /general/i.test(c)) ?? categories[0] ?? 'general',
  );
  const [priority] = best(
    text,
    priorities,
    PRIORITY_WORDS,
    priorities.find((p) => /medium/i.test(p)) ?? priorities[0] ?? 'medium',
  );
  return {
    department,
    category,
    priority,
    confidence: Math.min(0.95, 0.5 + 0.15 * score),
    rationale: score > 0 ? `Keywords point to ${department}.` : 'No clear signal; general queue.',
  };
}
