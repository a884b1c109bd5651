#!/usr/bin/env node
// Runs the TypeScript sources directly (no build step): tsx's loader is registered
// first, then the entry point is imported through it.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
