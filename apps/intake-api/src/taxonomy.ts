import { readFile } from 'node:fs/promises';

// The departments the API offers and validates routes against. The categorizer owns
// the full taxonomy file (departments, categories, priorities); this reads only the
// department list from it, so the two agree once TAXONOMY_FILE is set for both.

export interface DepartmentInfo {
  name: string;
  description: string | null;
}

export const DEFAULT_DEPARTMENTS: readonly DepartmentInfo[] = [
  { name: 'IT Support', description: 'Computers, accounts, e-mail, network, software.' },
  { name: 'HR', description: 'Leave, contracts, benefits, onboarding, workplace matters.' },
  { name: 'Facilities', description: 'Buildings, offices, furniture, keys, parking.' },
  { name: 'Finance', description: 'Invoices, payments, refunds, expenses.' },
  { name: 'General', description: 'Everything else, and triage.' },
];

export class TaxonomyFileError extends Error {
  readonly code = 'TAXONOMY_INVALID';
  readonly retriable = false;
}

/** Parses the departments of a taxonomy document; inactive departments are left out. */
export function departmentsOf(doc: unknown, source = 'taxonomy'): DepartmentInfo[] {
  const list = (doc as { departments?: unknown } | null)?.departments;
  if (!Array.isArray(list) || list.length === 0) {
    throw new TaxonomyFileError(`${source}: "departments" must be a non-empty array`);
  }
  return list
    .map((d: unknown, i) => {
      const name = (d as { name?: unknown } | null)?.name;
      if (typeof name !== 'string' || name.trim() === '') {
        throw new TaxonomyFileError(`${source}: departments[${i}].name must be a non-empty string`);
      }
      const { description, active } = d as { description?: unknown; active?: unknown };
      return { name, description: typeof description === 'string' ? description : null, active };
    })
    .filter((d) => d.active !== false)
    .map(({ name, description }) => ({ name, description }));
}

/** The departments of TAXONOMY_FILE, or the default list when no file is configured. */
export async function loadDepartments(file: string): Promise<DepartmentInfo[]> {
  if (!file) return [...DEFAULT_DEPARTMENTS];
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new TaxonomyFileError(`cannot read taxonomy ${file}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return departmentsOf(doc, file);
}
