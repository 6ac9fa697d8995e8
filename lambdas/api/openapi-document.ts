import * as z from 'zod';
import {
  createDocument,
  type ZodOpenApiOperationObject,
  type ZodOpenApiPathsObject,
  type ZodOpenApiResponseObject,
} from 'zod-openapi';
import type { ResponseSpec, RouteSpec } from './route-spec.ts';
import { routeList } from './routes.ts';
import { Problem, WebhookEvent } from './schemas.ts';

const standardErrors: Record<number, string> = {
  400: 'Malformed or invalid input (unknown fields are invalid)',
  404: 'Not found, or not visible to you',
  500: 'Unexpected server error (details are never exposed)',
};

/** Builds the OpenAPI 3.1 document from the route table and the same zod schemas that validate requests. */
export function buildOpenApiDocument(version: string) {
  const paths: ZodOpenApiPathsObject = {};
  for (const route of routeList) {
    paths[route.path] ??= {};
    (paths[route.path] as Record<string, ZodOpenApiOperationObject>)[route.method.toLowerCase()] =
      operation(route);
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

function operation(route: RouteSpec & { id: string }): ZodOpenApiOperationObject {
  const responses: Record<string, ZodOpenApiResponseObject> = {};
  const statuses: Record<string, ResponseSpec | undefined> = {
    ...Object.fromEntries(Object.keys(standardErrors).map((status) => [status, undefined])),
    ...route.responses,
  };
  for (const [statusText, spec] of Object.entries(statuses)) {
    const status = Number(statusText);
    if (route.auth === 'none' && status === 401) continue;
    const description = spec?.description ?? standardErrors[status] ?? 'Error';
    const contentType =
      spec?.contentType ?? (status >= 400 ? 'application/problem+json' : 'application/json');
    const schema = spec?.schema ?? (status >= 400 ? Problem : undefined);
    responses[statusText] = schema
      ? { description, content: { [contentType]: { schema } } }
      : contentType === 'application/json' || status === 204
        ? { description }
        : { description, content: { [contentType]: {} } };
  }
  if (route.auth !== 'none') {
    responses['401'] = {
      description: 'Missing, invalid or expired credentials (WWW-Authenticate: Bearer)',
      content: { 'application/problem+json': { schema: Problem } },
    };
    responses['429'] = {
      description: "Rate limited: this caller's token bucket is empty (Retry-After and RateLimit-* headers)",
      headers: {
        'Retry-After': { description: 'Seconds to wait', schema: { type: 'integer' } },
      },
      content: { 'application/problem+json': { schema: Problem } },
    };
  }
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
      ? { requestBody: { required: true, content: { 'application/json': { schema: route.request.body } } } }
      : {}),
    responses,
  };
}
