import { readFile } from 'node:fs/promises';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { Taxonomy } from '@mailroom/categorizer';

// Routing rules are data (ROUTING_RULES_FILE): an operator adds a sender or a keyword
// without a release. They are checked against the taxonomy at start, so a rule that
// names a department that does not exist stops the router instead of misrouting.

const Name = Type.String({ minLength: 1, maxLength: 80, pattern: '^[A-Za-z0-9_.-]+$' });
/** A full address or `@domain` (which also covers its subdomains). */
const AddressPattern = Type.String({
  minLength: 2,
  maxLength: 320,
  pattern: '^[^@\\s]*@[^@\\s]+$',
});
const PriorityName = Type.Union([
  Type.Literal('low'),
  Type.Literal('medium'),
  Type.Literal('high'),
  Type.Literal('critical'),
]);

export const RoutingRulesSchema = Type.Object(
  {
    version: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })),
    /** Sender address or domain → department (evaluated first, in order). */
    senders: Type.Array(
      Type.Object(
        {
          name: Name,
          match: Type.Array(AddressPattern, { minItems: 1 }),
          department: Type.String({ minLength: 1 }),
        },
        { additionalProperties: false },
      ),
      { default: [] },
    ),
    /** VIP senders: their tickets get at least this priority, whoever picks the department. */
    vip: Type.Array(
      Type.Object(
        {
          name: Name,
          match: Type.Array(AddressPattern, { minItems: 1 }),
          priorityFloor: PriorityName,
        },
        { additionalProperties: false },
      ),
      { default: [] },
    ),
    /** Whole words or phrases (case-insensitive) in the title or description → department. */
    keywords: Type.Array(
      Type.Object(
        {
          name: Name,
          keywords: Type.Array(Type.String({ minLength: 2, maxLength: 100 }), { minItems: 1 }),
          department: Type.String({ minLength: 1 }),
          fields: Type.Optional(
            Type.Array(Type.Union([Type.Literal('title'), Type.Literal('description')]), {
              minItems: 1,
            }),
          ),
        },
        { additionalProperties: false },
      ),
      { default: [] },
    ),
  },
  { additionalProperties: false },
);
export type RoutingRules = Static<typeof RoutingRulesSchema>;

/** The built-in rules: no overrides, so the categorizer (or triage) decides. */
export const DEFAULT_ROUTING_RULES: RoutingRules = {
  version: 'default-1',
  senders: [],
  vip: [],
  keywords: [],
};

export class RoutingRulesError extends Error {
  readonly code = 'ROUTING_RULES_INVALID';
  readonly retriable = false;
  constructor(readonly problems: string[]) {
    super(`invalid routing rules: ${problems.join('; ')}`);
    this.name = 'RoutingRulesError';
  }
}

/** Validates rules (JSON text or value) against the schema and the taxonomy's departments. */
export function parseRoutingRules(
  input: unknown,
  taxonomy: Taxonomy,
  triageDepartment: string,
): RoutingRules {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input) as unknown;
    } catch {
      throw new RoutingRulesError(['not valid JSON']);
    }
  }
  const withDefaults = Value.Default(RoutingRulesSchema, Value.Clone(value));
  if (!Value.Check(RoutingRulesSchema, withDefaults)) {
    throw new RoutingRulesError(
      [...Value.Errors(RoutingRulesSchema, withDefaults)]
        .slice(0, 10)
        .map((e) => `${e.path || '/'}: ${e.message}`),
    );
  }
  const rules = withDefaults;
  const problems: string[] = [];
  const known = new Map(taxonomy.departments.map((d) => [d.name, d]));
  const triage = known.get(triageDepartment);
  if (!triage) problems.push(`TRIAGE_DEPARTMENT "${triageDepartment}" is not in the taxonomy`);
  else if (triage.active === false) {
    problems.push(`TRIAGE_DEPARTMENT "${triageDepartment}" is inactive`);
  }
  for (const [kind, list] of [
    ['senders', rules.senders],
    ['keywords', rules.keywords],
  ] as const) {
    for (const r of list) {
      if (!known.has(r.department)) {
        problems.push(`${kind}/${r.name}: department "${r.department}" is not in the taxonomy`);
      }
    }
  }
  const names = [...rules.senders, ...rules.vip, ...rules.keywords].map((r) => r.name);
  const dups = names.filter((n, i) => names.indexOf(n) !== i);
  if (dups.length > 0) problems.push(`duplicate rule names: ${[...new Set(dups)].join(', ')}`);
  if (problems.length > 0) throw new RoutingRulesError(problems);
  return rules;
}

export async function loadRoutingRules(
  path: string,
  taxonomy: Taxonomy,
  triageDepartment: string,
): Promise<RoutingRules> {
  if (!path) return parseRoutingRules(DEFAULT_ROUTING_RULES, taxonomy, triageDepartment);
  const text = await readFile(path, 'utf8');
  try {
    return parseRoutingRules(text, taxonomy, triageDepartment);
  } catch (err) {
    if (err instanceof RoutingRulesError) throw new RoutingRulesError([path, ...err.problems]);
    throw err;
  }
}
