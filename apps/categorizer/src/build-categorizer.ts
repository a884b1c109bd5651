import { basename } from 'node:path';
import { loadDefaultModel, loadModel, type Classifier } from '@mailroom/classifier';
import { Registry } from 'prom-client';
import { loadConfig } from '@mailroom/config';
import { CategorizerModelConfig } from './config.js';
import { toCategorizedPayload } from './decide.js';
import { createClaudeCategorizer, DEFAULT_MODEL } from './llm/claude-categorizer.js';
import type { Categorizer, Logger } from './llm/types.js';
import { createFallbackCategorizer } from './llm/with-fallback.js';
import { createLocalCategorizer } from './local/local-categorizer.js';
import { DEFAULT_TAXONOMY, loadTaxonomyFile, TaxonomyError, type Taxonomy } from './taxonomy.js';

// Builds the categorizer that the config describes: Claude with the local model as
// its fallback when a key is configured, the local model alone otherwise.

/** The priorities the event schema can carry (libs/events Priority). */
const EVENT_PRIORITIES = new Set(['low', 'medium', 'high', 'critical']);

export interface BuiltCategorizer {
  categorizer: Categorizer;
  taxonomy: Taxonomy;
  mode: 'llm' | 'local';
  fallbackDepartment: string;
}

export interface BuildOptions {
  registry?: Registry;
  logger?: Logger;
}

async function loadLocalModels(config: CategorizerModelConfig) {
  const departmentModel: Classifier = config.LOCAL_MODEL_FILE
    ? await loadModel(config.LOCAL_MODEL_FILE)
    : await loadDefaultModel('queue');
  const priorityModel: Classifier = config.LOCAL_PRIORITY_MODEL_FILE
    ? await loadModel(config.LOCAL_PRIORITY_MODEL_FILE)
    : await loadDefaultModel('priority');
  const modelName = `local:${config.LOCAL_MODEL_FILE ? basename(config.LOCAL_MODEL_FILE) : 'tickets-queue'}`;
  return { departmentModel, priorityModel, modelName };
}

function checkTaxonomyFitsEvents(taxonomy: Taxonomy, fallbackDepartment: string): void {
  const problems: string[] = [];
  const off = taxonomy.priorities.map((p) => p.name).filter((p) => !EVENT_PRIORITIES.has(p));
  if (off.length > 0)
    problems.push(`priorities ${off.join(', ')} are not event priorities (low..critical)`);
  const active = taxonomy.departments.filter((d) => d.active !== false).map((d) => d.name);
  if (!active.includes(fallbackDepartment))
    problems.push(
      `CATEGORIZER_ABSTAIN_FALLBACK_DEPARTMENT "${fallbackDepartment}" is not an active department`,
    );
  if (problems.length > 0) throw new TaxonomyError(problems);
}

export async function createCategorizerFromConfig(
  config: CategorizerModelConfig,
  options: BuildOptions = {},
): Promise<BuiltCategorizer> {
  const registry = options.registry ?? new Registry();
  const logger = options.logger;
  const taxonomy = config.TAXONOMY_FILE
    ? await loadTaxonomyFile(config.TAXONOMY_FILE)
    : DEFAULT_TAXONOMY;
  const fallbackDepartment = config.CATEGORIZER_ABSTAIN_FALLBACK_DEPARTMENT;
  checkTaxonomyFitsEvents(taxonomy, fallbackDepartment);
  const local = createLocalCategorizer({
    taxonomy,
    fallbackDepartment,
    ...(await loadLocalModels(config)),
  });
  if (local.unmappedLabels.length > 0) {
    // Not fatal (a team may map only part of a model), but every such answer abstains.
    logger?.warn(
      { labels: local.unmappedLabels },
      'local model labels map to no active department; add them to the taxonomy localModel map',
    );
  }
  if (!config.ANTHROPIC_API_KEY) {
    return { categorizer: local, taxonomy, mode: 'local', fallbackDepartment };
  }
  const claude = createClaudeCategorizer({
    apiKey: config.ANTHROPIC_API_KEY,
    baseURL: config.ANTHROPIC_BASE_URL,
    model: config.ANTHROPIC_MODEL || DEFAULT_MODEL,
    taxonomy,
    timeoutMs: config.LLM_TIMEOUT_MS,
    deadlineMs: config.LLM_DEADLINE_MS,
    maxRetries: config.LLM_MAX_RETRIES,
    maxConcurrency: config.LLM_MAX_CONCURRENCY,
    redact: config.LLM_REDACT,
    registry,
    ...(logger ? { logger } : {}),
  });
  const categorizer = createFallbackCategorizer({
    primary: claude,
    fallback: local,
    registry,
    ...(logger ? { logger } : {}),
  });
  return { categorizer, taxonomy, mode: 'llm', fallbackDepartment };
}

/** The body of intake-api's POST /api/classify. */
export interface ClassifyInput {
  title: string;
  description: string;
}

/**
 * A preview for intake-api's POST /api/classify: the same decision and shape as a
 * ticket.categorized payload, without creating a ticket. Defaults to the local model
 * (no API key), so a preview costs nothing; pass a config to preview with Claude.
 */
export async function createLocalClassify(
  config: Partial<CategorizerModelConfig> = {},
  options: BuildOptions = {},
): Promise<(input: ClassifyInput) => Promise<Record<string, unknown>>> {
  const built = await createCategorizerFromConfig(
    // The schema's defaults: no API key, the built-in taxonomy, the shipped models.
    { ...loadConfig(CategorizerModelConfig, {}), ...config },
    options,
  );
  return async (input) => {
    const c = await built.categorizer.categorize({
      ticketId: 'preview',
      subject: input.title,
      body: input.description,
      requesterEmail: 'preview@invalid',
    });
    return { ...toCategorizedPayload(built.taxonomy, c, built.fallbackDepartment) };
  };
}
