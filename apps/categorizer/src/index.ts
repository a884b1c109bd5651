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
