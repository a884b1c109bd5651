import { Type, type Static } from '@sinclair/typebox';

// The local model speaks its training data's labels (the ticket dataset's queues such
// as "Technical Support"), the pipeline speaks the configured taxonomy. This part of
// the taxonomy file says how one becomes the other, so that a team changing its
// departments edits data, not code. Labels without an entry fall back to identity
// (a model retrained from reroutes predicts department names directly), and failing
// that to the configured fallback department with needsReview.

const Name = Type.String({ minLength: 1, maxLength: 80, pattern: '\\S' });
const Threshold = Type.Number({ minimum: 0, maximum: 1 });

export const LocalModelMapSchema = Type.Object(
  {
    /** Label of the department model → department. */
    departments: Type.Record(Type.String({ minLength: 1 }), Name),
    /** Label of the department model → category (the shipped models have no category model). */
    categories: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Name)),
    /** Label of the priority model → priority. */
    priorities: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Name)),
    /** Category when the department label has none; default: "general" if it exists, else the first. */
    defaultCategory: Type.Optional(Name),
    /** Below this department confidence the local answer abstains; default: the model's own. */
    abstainThreshold: Type.Optional(Threshold),
  },
  { additionalProperties: false },
);
export type LocalModelMap = Static<typeof LocalModelMapSchema>;

/** A sensible map from the ticket dataset's queues onto the default departments. */
export const DEFAULT_LOCAL_MODEL_MAP: LocalModelMap = {
  departments: {
    'Technical Support': 'IT Support',
    'IT Support': 'IT Support',
    'Product Support': 'IT Support',
    'Service Outages and Maintenance': 'IT Support',
    'Billing and Payments': 'Finance',
    'Returns and Exchanges': 'Finance',
    'Human Resources': 'HR',
    'Customer Service': 'General',
    'Sales and Pre-Sales': 'General',
    'General Inquiry': 'General',
  },
  categories: {
    'Technical Support': 'technical',
    'IT Support': 'technical',
    'Product Support': 'technical',
    'Service Outages and Maintenance': 'technical',
    'Billing and Payments': 'billing',
    'Returns and Exchanges': 'billing',
    'Human Resources': 'general',
    'Customer Service': 'general',
    'Sales and Pre-Sales': 'general',
    'General Inquiry': 'general',
  },
  priorities: { high: 'high', medium: 'medium', low: 'low' },
  defaultCategory: 'general',
};

interface Named {
  name: string;
  active?: boolean;
}

/** Problems of a map against the taxonomy's names: every target must exist (and be active). */
export function localModelMapProblems(
  map: LocalModelMap,
  taxonomy: { departments: Named[]; categories: Named[]; priorities: Named[] },
): string[] {
  const problems: string[] = [];
  const active = new Set(taxonomy.departments.filter((d) => d.active !== false).map((d) => d.name));
  const categories = new Set(taxonomy.categories.map((c) => c.name));
  const priorities = new Set(taxonomy.priorities.map((p) => p.name));
  const check = (
    entries: Record<string, string> | undefined,
    allowed: Set<string>,
    what: string,
  ) => {
    for (const [label, target] of Object.entries(entries ?? {})) {
      if (!allowed.has(target))
        problems.push(`localModel.${what}["${label}"]: "${target}" is not an active ${what}`);
    }
  };
  check(map.departments, active, 'departments');
  check(map.categories, categories, 'categories');
  check(map.priorities, priorities, 'priorities');
  if (map.defaultCategory !== undefined && !categories.has(map.defaultCategory))
    problems.push(`localModel.defaultCategory: "${map.defaultCategory}" is not a category`);
  return problems;
}
