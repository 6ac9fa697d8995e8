import * as z from './zod.ts';

/**
 * Parses an environment against a zod schema and fails with one message that names every missing or
 * invalid variable, so a misconfigured deployment dies at start, not on the first request.
 */
export function parseEnv<S extends z.core.$ZodType>(
  schema: S,
  env: Record<string, string | undefined>,
  what: string,
): z.infer<S> {
  const result = z.safeParse(schema, env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join('.') || '(environment)';
    const value = issue.path.length === 1 ? env[String(issue.path[0])] : undefined;
    return value === undefined && issue.code === 'invalid_type'
      ? `${name} is required but not set`
      : `${name} is invalid: ${issue.message}`;
  });
  throw new ConfigError(`${what} configuration is invalid:\n  - ${problems.join('\n  - ')}`);
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** "a,b, c" -> ["a","b","c"]; empty -> []. */
export const commaList = z.pipe(
  z.optional(z.string()),
  z.transform((value: string | undefined) =>
    (value ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  ),
);

export const booleanFlag = z.pipe(
  z.optional(z.enum(['true', 'false', '1', '0'])),
  z.transform((value: 'true' | 'false' | '1' | '0' | undefined) => value === 'true' || value === '1'),
);
