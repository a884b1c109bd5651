export { buildApp } from './app.js';
export { start, parseHealthUrls, type RunningIntake, type StartOptions } from './start.js';
export { IntakeConfigSchema, type IntakeConfig } from './config.js';
export type { App, AppDeps, Classify } from './app-types.js';
export {
  createApiKeyStore,
  hashKey,
  parseBootstrapKeys,
  upsertApiKey,
  type ApiKey,
  type ApiKeyStore,
  type Scope,
} from './api-keys.js';
export { DEFAULT_DEPARTMENTS, loadDepartments, type DepartmentInfo } from './taxonomy.js';
