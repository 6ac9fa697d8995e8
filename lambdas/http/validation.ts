import type { RouteSpec } from '#api/route-spec.ts';
import { type FieldError, ValidationError } from '#core/errors.ts';
import type * as z from '#shared/zod.ts';
import { callState, type HttpMiddyRequest, middleware } from './types.ts';

type Part = 'params' | 'query' | 'body';

/**
 * Validates request parts against the route's zod schemas (strict), into the call state. Used twice:
 * params and query before the body is parsed, the body after (so the first problem found is the same).
 */
export function validation(route: RouteSpec, parts: readonly Part[]) {
  const before = (request: HttpMiddyRequest) => {
    const state = callState(request);
    const event = request.event;
    for (const part of parts) {
      const schema = route.request?.[part];
      if (!schema) continue;
      const value =
        part === 'params'
          ? (event.pathParameters ?? {})
          : part === 'query'
            ? (event.queryStringParameters ?? {})
            : event.body;
      state[part] = parsePart(schema, value, part);
    }
  };
  return middleware({ before });
}

function parsePart(schema: z.ZodMiniType, value: unknown, where: string) {
  const nul = nulPath(value, [where]);
  if (nul) {
    throw new ValidationError(`The request ${where} is invalid`, {
      errors: [{ path: nul.join('.'), message: 'NUL characters (U+0000) are not allowed' }],
    });
  }
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ValidationError(`The request ${where} is invalid`, {
    errors: zodFieldErrors(result.error, where),
  });
}

/** Where a U+0000 hides in a parsed request part (Postgres text cannot store one); iterative, O(size). */
function nulPath(value: unknown, root: string[]): string[] | null {
  type Step = { key: string; parent: Step | null } | null;
  const stack: Array<[unknown, Step]> = [[value, null]];
  const pathOf = (step: Step) => {
    const keys: string[] = [];
    for (let at = step; at; at = at.parent) keys.unshift(at.key);
    return [...root, ...keys];
  };
  while (stack.length > 0) {
    const [current, step] = stack.pop()!;
    if (typeof current === 'string') {
      if (current.includes('\u0000')) return pathOf(step);
    } else if (current && typeof current === 'object') {
      for (const [key, child] of Object.entries(current)) {
        if (key.includes('\u0000')) return pathOf(step);
        stack.push([child, { key, parent: step }]);
      }
    }
  }
  return null;
}

export function zodFieldErrors(error: z.core.$ZodError, where: string): FieldError[] {
  return error.issues.map((issue) => ({
    path: [where, ...issue.path.map(String)].join('.'),
    message:
      issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : issue.message,
  }));
}
