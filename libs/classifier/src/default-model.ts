import { fileURLToPath } from 'node:url';
import type { LinearClassifier } from './linear-classifier.js';
import { loadModel } from './model-file.js';

/** The shipped models, trained by train-default.ts on the ticket training split. */
export type DefaultModelTask = 'queue' | 'priority';

export function defaultModelPath(task: DefaultModelTask = 'queue'): string {
  return fileURLToPath(new URL(`../models/tickets-${task}.model.gz`, import.meta.url));
}

/** The embedded categorizer used when no API key is configured, and as the LLM's fallback. */
export function loadDefaultModel(task: DefaultModelTask = 'queue'): Promise<LinearClassifier> {
  return loadModel(defaultModelPath(task));
}
