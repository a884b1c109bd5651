export {
  DEFAULT_TAXONOMY,
  TaxonomySchema,
  TaxonomyError,
  parseTaxonomy,
  loadTaxonomyFile,
  activeDepartments,
  meetsConfidenceThreshold,
  type Taxonomy,
  type Department,
} from './taxonomy.js';
export {
  createClaudeCategorizer,
  DEFAULT_MODEL,
  type ClaudeCategorizerOptions,
} from './llm/claude-categorizer.js';
export { createFallbackCategorizer, type FallbackCategorizerOptions } from './llm/with-fallback.js';
export { LlmError } from './llm/llm-error.js';
export type { Categorizer, Categorization, TicketInput, TokenUsage } from './llm/types.js';
export { start, type StartOptions } from './start.js';
export { CategorizerConfig, CategorizerModelConfig } from './config.js';
export {
  createCategorizerFromConfig,
  createLocalClassify,
  type BuiltCategorizer,
  type ClassifyInput,
} from './build-categorizer.js';
export {
  createLocalCategorizer,
  LOCAL_PROMPT_VERSION,
  type LocalCategorizer,
  type LocalCategorizerOptions,
} from './local/local-categorizer.js';
export {
  DEFAULT_LOCAL_MODEL_MAP,
  LocalModelMapSchema,
  type LocalModelMap,
} from './local-model-map.js';
export { toCategorizedPayload } from './decide.js';
export { categorizeCreated, createRecordHandler } from './handle-created.js';
