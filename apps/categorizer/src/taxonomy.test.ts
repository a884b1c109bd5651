import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  activeDepartments,
  DEFAULT_TAXONOMY,
  loadTaxonomyFile,
  meetsConfidenceThreshold,
  parseTaxonomy,
  TaxonomyError,
  taxonomyFingerprint,
} from './taxonomy.js';

const minimal = {
  departments: [{ name: 'Legal', description: 'Contracts and compliance.' }],
  categories: [{ name: 'question', description: 'A question.' }],
  priorities: [{ name: 'normal', description: 'Everything.' }],
};

function problemsOf(input: unknown): string[] {
  try {
    parseTaxonomy(input);
  } catch (err) {
    expect(err).toBeInstanceOf(TaxonomyError);
    expect((err as TaxonomyError).code).toBe('TAXONOMY_INVALID');
    return (err as TaxonomyError).problems;
  }
  throw new Error('expected a TaxonomyError');
}

describe('taxonomy', () => {
  it('accepts the default taxonomy and its expected names', () => {
    expect(parseTaxonomy(JSON.stringify(DEFAULT_TAXONOMY))).toEqual(DEFAULT_TAXONOMY);
    expect(DEFAULT_TAXONOMY.departments.map((d) => d.name)).toEqual([
      'IT Support',
      'HR',
      'Facilities',
      'Finance',
      'General',
    ]);
    expect(DEFAULT_TAXONOMY.categories.map((c) => c.name)).toEqual([
      'billing',
      'technical',
      'account',
      'general',
    ]);
    expect(DEFAULT_TAXONOMY.priorities.map((p) => p.name)).toEqual([
      'low',
      'medium',
      'high',
      'critical',
    ]);
  });

  it('accepts a minimal custom taxonomy given as an object', () => {
    expect(parseTaxonomy(minimal).departments[0]?.name).toBe('Legal');
  });

  it('rejects invalid JSON, empty lists, blank names, unknown keys and bad thresholds', () => {
    expect(problemsOf('{nope')).toEqual(['not valid JSON']);
    expect(problemsOf({ ...minimal, departments: [] }).join()).toMatch(/departments/);
    expect(
      problemsOf({ ...minimal, categories: [{ name: '  ', description: 'x' }] }).join(),
    ).toMatch(/categories/);
    expect(problemsOf({ ...minimal, extra: 1 }).length).toBeGreaterThan(0);
    const bad = {
      ...minimal,
      departments: [{ name: 'Legal', description: 'x', confidenceThreshold: 2 }],
    };
    expect(problemsOf(bad).join()).toMatch(/confidenceThreshold/);
  });

  it('rejects duplicate names case-insensitively', () => {
    const dup = {
      ...minimal,
      priorities: [
        { name: 'High', description: 'a' },
        { name: 'high ', description: 'b' },
      ],
    };
    expect(problemsOf(dup)).toEqual(['priorities: duplicate names high']);
  });

  it('requires at least one active department and offers only active ones', () => {
    const off = { ...minimal, departments: [{ name: 'Legal', description: 'x', active: false }] };
    expect(problemsOf(off)).toEqual(['departments: at least one must be active']);
    const t = parseTaxonomy({
      ...minimal,
      departments: [
        { name: 'Legal', description: 'x', active: false },
        { name: 'Sales', description: 'y' },
      ],
    });
    expect(activeDepartments(t).map((d) => d.name)).toEqual(['Sales']);
  });

  it('applies per-department confidence thresholds over the default', () => {
    const t = parseTaxonomy({
      ...minimal,
      defaultConfidenceThreshold: 0.5,
      departments: [{ name: 'Legal', description: 'x', confidenceThreshold: 0.9 }],
    });
    expect(meetsConfidenceThreshold(t, 'Legal', 0.8)).toBe(false);
    expect(meetsConfidenceThreshold(t, 'Other', 0.6)).toBe(true);
  });

  it('loads a file and names it in errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'taxonomy-'));
    const good = join(dir, 'good.json');
    const bad = join(dir, 'bad.json');
    await writeFile(good, JSON.stringify(minimal));
    await writeFile(bad, JSON.stringify({ ...minimal, priorities: [] }));
    expect((await loadTaxonomyFile(good)).categories[0]?.name).toBe('question');
    await expect(loadTaxonomyFile(bad)).rejects.toThrow(bad);
  });

  it('fingerprints change with the content', () => {
    expect(taxonomyFingerprint(DEFAULT_TAXONOMY)).toMatch(/^[0-9a-f]{8}$/);
    expect(taxonomyFingerprint(minimal)).not.toBe(taxonomyFingerprint(DEFAULT_TAXONOMY));
  });
});
