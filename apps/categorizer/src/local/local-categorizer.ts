import { fuseClassifiers, type Classifier } from '@mailroom/classifier';
import type { LocalModelMap } from '../local-model-map.js';
import type { Categorization, Categorizer, TicketInput } from '../llm/types.js';
import { ZERO_TOKENS } from '../llm/types.js';
import { activeDepartments, type Taxonomy } from '../taxonomy.js';

// The local model as a Categorizer: the embedded default without an API key, and
// Claude's fallback. It runs in-process in well under a millisecond, so it needs no
// timeout, retry or concurrency limit of its own.

export interface LocalCategorizerOptions {
  taxonomy: Taxonomy;
  /** Predicts departments (or labels that the taxonomy's localModel map translates). */
  departmentModel: Classifier;
  /** Predicts priorities; without it every ticket gets the taxonomy's middle priority. */
  priorityModel?: Classifier;
  /** Where a ticket goes when the model abstains or predicts an unmapped label. */
  fallbackDepartment: string;
  /** Carried into the result's `model` field, e.g. the model file's name. */
  modelName?: string;
}

export interface LocalCategorizer extends Categorizer {
  /** Model labels that map to no active department: they always abstain. */
  readonly unmappedLabels: readonly string[];
}

export const LOCAL_PROMPT_VERSION = 'local-v1';

export function createLocalCategorizer(opts: LocalCategorizerOptions): LocalCategorizer {
  const { taxonomy, departmentModel: model } = opts;
  const map: Partial<LocalModelMap> = taxonomy.localModel ?? {};
  const active = new Set(activeDepartments(taxonomy).map((d) => d.name));
  const categories = new Set(taxonomy.categories.map((c) => c.name));
  const priorities = taxonomy.priorities.map((p) => p.name);
  if (!active.has(opts.fallbackDepartment)) {
    throw new Error(`fallback department "${opts.fallbackDepartment}" is not an active department`);
  }
  const defaultCategory =
    map.defaultCategory ??
    taxonomy.categories.find((c) => c.name.toLowerCase() === 'general')?.name ??
    taxonomy.categories[0]!.name;
  const middlePriority = priorities[Math.floor((priorities.length - 1) / 2)]!;

  // Identity when no entry: a model trained on the taxonomy's own names needs no map.
  const departmentOf = (label: string): string | undefined => {
    const d = map.departments?.[label] ?? label;
    return active.has(d) ? d : undefined;
  };
  const categoryOf = (label: string): string => {
    const c = map.categories?.[label] ?? label;
    return categories.has(c) ? c : defaultCategory;
  };
  const priorityOf = (label: string): string => {
    const p = map.priorities?.[label] ?? label;
    return priorities.includes(p) ? p : middlePriority;
  };
  // Everything that depends only on the labels is resolved here, once: per ticket the
  // work is one feature pass for both models (fuseClassifiers) and a few array reads.
  const labelDepartments = model.labels.map(departmentOf);
  const unmappedLabels = model.labels.filter((_, i) => labelDepartments[i] === undefined);
  const departments = [...new Set(labelDepartments.filter((d) => d !== undefined))];
  const labelDepartment = Int32Array.from(labelDepartments, (d) =>
    d === undefined ? -1 : departments.indexOf(d),
  );
  const labelCategories = model.labels.map(categoryOf);
  const labelPriorities = opts.priorityModel?.labels.map(priorityOf) ?? [];
  const byDepartment = new Float64Array(departments.length);
  const fused = fuseClassifiers(opts.priorityModel ? [model, opts.priorityModel] : [model]);
  const threshold = map.abstainThreshold ?? model.abstainThreshold;
  const modelName = opts.modelName ?? 'local';

  return {
    unmappedLabels,
    categorize(ticket: TicketInput): Promise<Categorization> {
      const started = performance.now();
      const scored = fused.probabilities(`${ticket.subject} ${ticket.body}`);
      const probs = scored[0]!;
      const priorityProbs = scored[1];
      // Several labels may share a department ("Technical Support", "IT Support"):
      // the department's probability is their sum, which is what the threshold is about.
      byDepartment.fill(0);
      let bestLabel = 0;
      for (let i = 0; i < probs.length; i++) {
        if (probs[i]! > probs[bestLabel]!) bestLabel = i;
        const d = labelDepartment[i]!;
        if (d >= 0) byDepartment[d]! += probs[i]!;
      }
      let department = -1;
      let confidence = 0;
      for (let d = 0; d < byDepartment.length; d++) {
        if (byDepartment[d]! > confidence) [department, confidence] = [d, byDepartment[d]!];
      }
      const abstained = department < 0 || confidence < threshold;
      // The category follows the strongest label of the chosen department.
      let categoryLabel = bestLabel;
      for (let i = 0; i < probs.length; i++) {
        if (labelDepartment[i] !== department) continue;
        if (labelDepartment[categoryLabel] !== department || probs[i]! > probs[categoryLabel]!)
          categoryLabel = i;
      }
      let priority = middlePriority;
      if (priorityProbs) {
        let best = 0;
        for (let i = 1; i < priorityProbs.length; i++)
          if (priorityProbs[i]! > priorityProbs[best]!) best = i;
        priority = labelPriorities[best]!;
      }
      const result: Categorization = {
        department: abstained ? opts.fallbackDepartment : departments[department]!,
        category: labelCategories[categoryLabel]!,
        priority,
        confidence: Math.min(1, Math.max(0, confidence)),
        method: 'local',
        model: modelName,
        promptVersion: LOCAL_PROMPT_VERSION,
        latencyMs: performance.now() - started,
        tokens: ZERO_TOKENS,
        needsReview: abstained,
      };
      return Promise.resolve(result);
    },
  };
}
