import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import {
  DEFAULT_LOCAL_MODEL_MAP,
  LocalModelMapSchema,
  localModelMapProblems,
} from './local-model-map.js';

// The taxonomy is data: a team edits a JSON file (its path comes from the app's
// config) and the categorizer's prompt, tool enums and validation follow, with no
// code change. Everything that depends on it reads it from here.

const Name = Type.String({ minLength: 1, maxLength: 80, pattern: '\\S' });
const Description = Type.String({ minLength: 1, maxLength: 1000, pattern: '\\S' });
const Threshold = Type.Number({ minimum: 0, maximum: 1 });

export const DepartmentSchema = Type.Object(
  {
    name: Name,
    description: Description,
    /** An inactive department is kept for history but never offered to a model. */
    active: Type.Optional(Type.Boolean()),
    /** Below this confidence a ticket should go to triage rather than straight here. */
    confidenceThreshold: Type.Optional(Threshold),
  },
  { additionalProperties: false },
);

export const LabelSchema = Type.Object(
  { name: Name, description: Description },
  { additionalProperties: false },
);

export const TaxonomySchema = Type.Object(
  {
    /** Free-form label of the file, carried into promptVersion for traceability. */
    version: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })),
    departments: Type.Array(DepartmentSchema, { minItems: 1 }),
    categories: Type.Array(LabelSchema, { minItems: 1 }),
    priorities: Type.Array(LabelSchema, { minItems: 1 }),
    defaultConfidenceThreshold: Type.Optional(Threshold),
    /** How the local model's labels map onto this taxonomy (see local-model-map.ts). */
    localModel: Type.Optional(LocalModelMapSchema),
  },
  { additionalProperties: false },
);

export type Department = Static<typeof DepartmentSchema>;
export type TaxonomyLabel = Static<typeof LabelSchema>;
export type Taxonomy = Static<typeof TaxonomySchema>;

export class TaxonomyError extends Error {
  readonly code = 'TAXONOMY_INVALID';
  readonly retriable = false;
  constructor(
    readonly problems: string[],
    options?: { cause?: unknown },
  ) {
    super(`invalid taxonomy: ${problems.join('; ')}`, options);
    this.name = 'TaxonomyError';
  }
}

export const DEFAULT_TAXONOMY: Taxonomy = {
  version: 'default-1',
  departments: [
    {
      name: 'IT Support',
      description:
        'Computers, laptops, phones, accounts and passwords, e-mail, VPN, network, printers, software installation and access to internal systems.',
    },
    {
      name: 'HR',
      description:
        'Employment matters: leave and holidays, sick notes, contracts, benefits, onboarding and offboarding, recruiting, workplace conduct.',
    },
    {
      name: 'Facilities',
      description:
        'Buildings and offices: heating and air conditioning, cleaning, furniture, broken fixtures, keys and badges, parking, meeting rooms, deliveries.',
    },
    {
      name: 'Finance',
      description:
        'Money: invoices, payments, refunds, charges, expense claims and reimbursements, purchase orders, budgets, payroll amounts.',
    },
    {
      name: 'General',
      description: 'Anything that fits no other department, or that is too vague to tell.',
    },
  ],
  categories: [
    { name: 'billing', description: 'Invoices, charges, payments, refunds, prices.' },
    { name: 'technical', description: 'Something does not work: errors, outages, defects, setup.' },
    { name: 'account', description: 'Access, login, passwords, permissions, profile changes.' },
    { name: 'general', description: 'Questions, requests and feedback of any other kind.' },
  ],
  priorities: [
    { name: 'low', description: 'A question or wish; nobody is blocked.' },
    { name: 'medium', description: 'Someone is hindered but has a workaround.' },
    { name: 'high', description: 'Someone cannot work, or a deadline is at risk.' },
    {
      name: 'critical',
      description: 'An outage or security incident affecting many people or customers now.',
    },
  ],
  defaultConfidenceThreshold: 0.5,
  localModel: DEFAULT_LOCAL_MODEL_MAP,
};

function duplicates(names: string[]): string[] {
  const seen = new Set<string>();
  const dups = new Set<string>();
  // Case-insensitive: "HR" and "hr" would be one enum value to a reader, two to a model.
  for (const n of names.map((s) => s.trim().toLowerCase())) {
    if (seen.has(n)) dups.add(n);
    seen.add(n);
  }
  return [...dups];
}

/** Validates a taxonomy given as JSON text or as an already parsed value. */
export function parseTaxonomy(input: unknown): Taxonomy {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input) as unknown;
    } catch (cause) {
      throw new TaxonomyError(['not valid JSON'], { cause });
    }
  }
  if (!Value.Check(TaxonomySchema, value)) {
    const problems = [...Value.Errors(TaxonomySchema, value)]
      .slice(0, 10)
      .map((e) => `${e.path || '/'}: ${e.message}`);
    throw new TaxonomyError(problems);
  }
  const problems: string[] = [];
  for (const key of ['departments', 'categories', 'priorities'] as const) {
    const dups = duplicates(value[key].map((x) => x.name));
    if (dups.length > 0) problems.push(`${key}: duplicate names ${dups.join(', ')}`);
  }
  if (!value.departments.some((d) => d.active !== false)) {
    problems.push('departments: at least one must be active');
  }
  if (value.localModel) problems.push(...localModelMapProblems(value.localModel, value));
  if (problems.length > 0) throw new TaxonomyError(problems);
  return value;
}

/** Reads and validates a taxonomy JSON file; the path comes from the app's config. */
export async function loadTaxonomyFile(path: string): Promise<Taxonomy> {
  const text = await readFile(path, 'utf8');
  try {
    return parseTaxonomy(text);
  } catch (err) {
    if (err instanceof TaxonomyError)
      throw new TaxonomyError([`${path}`, ...err.problems], { cause: err });
    throw err;
  }
}

/** The departments a model may choose from. */
export function activeDepartments(taxonomy: Taxonomy): Department[] {
  return taxonomy.departments.filter((d) => d.active !== false);
}

/** Whether a categorization is confident enough to route without a human look. */
export function meetsConfidenceThreshold(
  taxonomy: Taxonomy,
  department: string,
  confidence: number,
): boolean {
  const dep = taxonomy.departments.find((d) => d.name === department);
  const threshold = dep?.confidenceThreshold ?? taxonomy.defaultConfidenceThreshold ?? 0;
  return confidence >= threshold;
}

/** Short stable hash: a changed taxonomy changes the prompt, so results say which one. */
export function taxonomyFingerprint(taxonomy: Taxonomy): string {
  return createHash('sha256').update(JSON.stringify(taxonomy)).digest('hex').slice(0, 8);
}
