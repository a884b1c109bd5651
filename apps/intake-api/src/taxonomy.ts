import {
  activeDepartments,
  DEFAULT_TAXONOMY,
  loadTaxonomyFile,
  type Taxonomy,
} from '@mailroom/categorizer';

// The departments the API offers and validates routes against come from the one
// taxonomy (TAXONOMY_FILE, parsed and validated by the categorizer's schema), so the
// API, the categorizer and the router always agree.

export interface DepartmentInfo {
  name: string;
  description: string | null;
}

/** The active departments of a taxonomy. */
export const departmentsOf = (taxonomy: Taxonomy): DepartmentInfo[] =>
  activeDepartments(taxonomy).map((d) => ({ name: d.name, description: d.description ?? null }));

export const DEFAULT_DEPARTMENTS: readonly DepartmentInfo[] = departmentsOf(DEFAULT_TAXONOMY);

/** The departments of TAXONOMY_FILE, or of the default taxonomy when none is configured. */
export async function loadDepartments(file: string): Promise<DepartmentInfo[]> {
  return file ? departmentsOf(await loadTaxonomyFile(file)) : [...DEFAULT_DEPARTMENTS];
}
