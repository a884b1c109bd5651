import { type Static, type TObject, type TProperties } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/** Thrown at boot when the environment does not satisfy an app's config schema. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  readonly retriable = false;
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses the environment once against a schema: fills defaults, converts strings to
 * numbers/booleans, and fails with every problem listed by variable name. Variables
 * not in the schema are ignored; empty strings count as unset.
 */
export function loadConfig<P extends TProperties>(
  schema: TObject<P>,
  env: Record<string, string | undefined>,
): Static<TObject<P>> {
  const input: Record<string, unknown> = {};
  for (const key of Object.keys(schema.properties)) {
    const raw = env[key];
    if (raw !== undefined && raw !== '') input[key] = raw;
  }
  const withDefaults = Value.Default(schema, input);
  const converted = Value.Convert(schema, withDefaults);
  if (Value.Check(schema, converted)) return converted;
  const problems = [...Value.Errors(schema, converted)].map((e) => {
    const name = e.path.replace(/^\//, '') || '(root)';
    const shown = env[name] === undefined ? 'unset' : JSON.stringify(env[name]);
    return `${name}: ${e.message} (got ${shown})`;
  });
  throw new ConfigError(problems);
}
