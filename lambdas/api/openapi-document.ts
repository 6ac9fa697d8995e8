import * as z from 'zod';
import {
  createDocument,
  type ZodOpenApiOperationObject,
  type ZodOpenApiPathsObject,
  type ZodOpenApiResponseObject,
} from 'zod-openapi';
import type { ResponseSpec, RouteSpec } from './route-spec.ts';
import { routeList } from './routes.ts';
import { Problem, responseSchemas, WebhookEvent } from './schemas.ts';

const standardErrors: Record<number, string> = {
  400: 'Malformed or invalid input (unknown fields are invalid)',
  404: 'Not found, or not visible to you',
  500: 'Unexpected server error (details are never exposed)',
};

/** What every route with a JSON request body may answer before the body is even validated. */
const bodyErrors: Record<number, string> = {
  413: 'The request body is over 64 KiB',
  415: 'The request body was not sent as application/json',
};

/**
 * Response headers, declared once as components and referenced from every answer that carries them.
 * A header marked optional here may be missing; one that is present always has this shape.
 */
const header = (id: string, schema: z.ZodType, description: string) =>
  schema.meta({ description, header: { id } });
const responseHeaders = {
  'X-Request-Id': header(
    'X-Request-Id',
    z.string().min(1).max(128),
    "Identifies this request in the logs: the client's own X-Request-Id when it sent a well-formed one",
  ),
  'RateLimit-Limit': header(
    'RateLimit-Limit',
    z.int().min(1).optional(),
    "The capacity of the caller's token bucket for this route's budget (read, write or upload); absent only when rate limiting is off",
  ),
  'RateLimit-Remaining': header(
    'RateLimit-Remaining',
    z.int().min(0).optional(),
    'Tokens left in that bucket after this request',
  ),
  'RateLimit-Reset': header(
    'RateLimit-Reset',
    z.int().min(0).optional(),
    'Seconds until that bucket is full again',
  ),
  'Retry-After': header('Retry-After', z.int().min(1), 'Seconds to wait before trying again'),
  Location: header(
    'Location',
    z.string().min(1),
    'The created resource, as a URL reference relative to the request URL (e.g. uploads/{uploadId})',
  ),
  'WWW-Authenticate': header(
    'WWW-Authenticate',
    z.string().regex(/^Bearer( |$)/),
    'A Bearer challenge (RFC 6750), with error and error_description when a credential was sent',
  ),
  Allow: header('Allow', z.string().min(1), 'The methods this path serves, comma separated'),
} as const;
type HeaderName = keyof typeof responseHeaders;
/** Optional wherever they appear: rate limiting can be off, and fails open when its store is down. */
const rateLimitHeaderNames: HeaderName[] = ['RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset'];

function headersObject(names: HeaderName[]) {
  return z.object(Object.fromEntries(names.map((name) => [name, responseHeaders[name]])));
}

/** An empty request body is read as `{}`, so a body is required exactly when its schema refuses `{}`. */
export function bodyRequired(schema: z.core.$ZodType): boolean {
  return !z.safeParse(schema, {}).success;
}

/** Builds the OpenAPI 3.1 document from the route table and the same zod schemas that validate requests. */
export function buildOpenApiDocument(version: string) {
  const paths: ZodOpenApiPathsObject = {};
  for (const route of routeList) {
    const allowed = routeList.filter((other) => other.path === route.path).map((other) => other.method);
    paths[route.path] ??= {};
    (paths[route.path] as Record<string, ZodOpenApiOperationObject>)[route.method.toLowerCase()] = operation(
      route,
      allowed,
    );
  }
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'VideoCloud API',
      version,
      description:
        'Direct-to-S3 multipart uploads, HLS transcoding and signed playback. Errors are RFC 9457 problem details.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: '/', description: 'This deployment' }],
    tags: [...new Set(routeList.map((route) => route.tag))].map((name) => ({ name })),
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'A Cognito access token (a local token from POST /local/token when running locally).',
        },
        apiKey: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Api-Key',
          description: 'An API key from POST /v1/api-keys: acts as its owner, narrowed to its scopes.',
        },
      },
    },
    paths,
    // What VideoCloud POSTs to a registered webhook endpoint (Standard Webhooks).
    webhooks: {
      event: {
        post: {
          operationId: 'webhookEvent',
          summary: 'A delivery to your endpoint',
          description:
            'One event, signed per Standard Webhooks: verify with `new Webhook(secret).verify(body, headers)` of the standardwebhooks package. A 2xx answer within 10 s is success; anything else is retried per WEBHOOK_RETRY_SCHEDULE with the same webhook-id.',
          tags: ['Webhooks'],
          requestParams: {
            header: z.object({
              'webhook-id': z.string().meta({ description: 'The event id: the same on every retry' }),
              'webhook-timestamp': z
                .string()
                .meta({ description: 'Unix seconds when this attempt was signed' }),
              'webhook-signature': z
                .string()
                .meta({ description: 'v1,<base64 HMAC-SHA256>; two, space-separated, after a rotation' }),
            }),
          },
          requestBody: { required: true, content: { 'application/json': { schema: WebhookEvent } } },
          responses: { '200': { description: 'Any 2xx within 10 s: delivered' } },
        },
      },
    },
  });
}

function operation(
  route: RouteSpec & { id: string },
  allowedMethods: readonly string[],
): ZodOpenApiOperationObject {
  const responses: Record<string, ZodOpenApiResponseObject> = {};
  const statuses: Record<string, ResponseSpec | undefined> = {
    ...Object.fromEntries(Object.keys(standardErrors).map((status) => [status, undefined])),
    ...(route.request?.body
      ? Object.fromEntries(Object.keys(bodyErrors).map((status) => [status, undefined]))
      : {}),
    ...route.responses,
  };
  const rateLimited = route.auth !== 'none';
  // RateLimit-* are added to every answer of a rate-limited route once its bucket has been consulted.
  const common: HeaderName[] = ['X-Request-Id', ...(rateLimited ? rateLimitHeaderNames : [])];
  for (const [statusText, spec] of Object.entries(statuses)) {
    const status = Number(statusText);
    const description = spec?.description ?? standardErrors[status] ?? bodyErrors[status] ?? 'Error';
    const contentTypes = [
      spec?.contentType ?? (status >= 400 ? 'application/problem+json' : 'application/json'),
    ].flat();
    const schema = spec?.schema ? responseSchemas[spec.schema] : status >= 400 ? Problem : undefined;
    responses[statusText] = {
      description,
      headers: headersObject([...common, ...(spec?.headers ?? [])]),
      ...(schema ? { content: Object.fromEntries(contentTypes.map((type) => [type, { schema }])) } : {}),
    };
  }
  if (rateLimited) {
    responses['401'] = {
      description: 'Missing, invalid or expired credentials',
      headers: headersObject([...common, 'WWW-Authenticate']),
      content: { 'application/problem+json': { schema: Problem } },
    };
    responses['429'] = {
      description: "Rate limited: this caller's token bucket for this route's budget is empty",
      headers: headersObject([...common, 'Retry-After']),
      content: { 'application/problem+json': { schema: Problem } },
    };
  }
  // The gateway answers any other method on this path, before any handler runs (no rate limit spent).
  responses['405'] = {
    description: `Another method than ${allowedMethods.join(', ')} on this path (listed in Allow)`,
    headers: headersObject(['X-Request-Id', 'Allow']),
    content: { 'application/problem+json': { schema: Problem } },
  };
  const sorted = Object.fromEntries(
    Object.entries(responses).sort(([a], [b]) => Number(a) - Number(b)),
  ) as Record<string, ZodOpenApiResponseObject>;
  return {
    operationId: route.id,
    summary: route.summary.split(/(?<=[.:])\s/)[0]!.replace(/[.:]$/, ''),
    description: route.summary,
    tags: [route.tag],
    ...(route.auth === 'required' ? { security: [{ bearer: [] }, { apiKey: [] }] } : {}),
    ...(route.auth === 'optional' ? { security: [{ bearer: [] }, { apiKey: [] }, {}] } : {}),
    ...(route.request?.params || route.request?.query
      ? {
          requestParams: {
            ...(route.request.params ? { path: route.request.params } : {}),
            ...(route.request.query ? { query: route.request.query } : {}),
          },
        }
      : {}),
    ...(route.request?.body
      ? {
          requestBody: {
            required: bodyRequired(route.request.body),
            content: { 'application/json': { schema: route.request.body } },
          },
        }
      : {}),
    responses: sorted,
  };
}
