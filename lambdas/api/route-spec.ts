import type * as z from '#shared/zod.ts';
import type { ResponseSchemaName } from './schemas.ts';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

/**
 * One row of the route table. The same row drives the CDK API (a resource, a method, a function built
 * from `entry`), the local gateway (path matching, dispatch), request validation in the handler, and the
 * OpenAPI document. Nothing about a route is declared twice.
 */
export interface RouteSpec {
  method: HttpMethod;
  /** API Gateway resource path, with `{param}` placeholders. */
  path: string;
  /** Handler module under lambdas/api, without extension; it exports `handler`. */
  entry: string;
  /** `optional`: anonymous callers are served too, with less visible to them. */
  auth: 'none' | 'optional' | 'required';
  summary: string;
  tag: string;
  request?: {
    params?: z.ZodMiniObject;
    query?: z.ZodMiniObject;
    body?: z.ZodMiniType;
  };
  responses: Record<number, ResponseSpec>;
  /**
   * State-changing routes name their audit action; a successful call is logged with the target's id,
   * taken from the first path parameter or, for creations, from the response body field `bodyId`.
   * Denied attempts (401/403) are logged for every route, under this action or the route id.
   */
  audit?: { action: string; target: string; bodyId?: string };
  /** Which token bucket a call draws from; default `read` for GET, `write` otherwise. */
  rateLimit?: 'read' | 'write' | 'upload';
  /** Lambda sizing, for the few routes that need more than the defaults. */
  lambda?: { memoryMb?: number; timeoutSeconds?: number };
}

export interface ResponseSpec {
  description: string;
  /** The answer's schema, by its name in `responseSchemas` (schemas.ts). */
  schema?: ResponseSchemaName;
  /**
   * The media types this answer may have (without parameters such as charset). Defaults to
   * application/json (application/problem+json for 4xx/5xx).
   */
  contentType?: string | readonly string[];
  /** Headers this answer carries besides those every answer of its route has (see openapi-document.ts). */
  headers?: readonly 'Location'[];
}
