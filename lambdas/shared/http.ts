import { randomUUID } from 'node:crypto';
import middy, { type MiddlewareObj, type Request } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { z } from 'zod';
import { db } from '#adapters/db/index.ts';
import { rememberUser } from '#adapters/db/users.ts';
import type { RouteSpec } from '#api/route-spec.ts';
import {
  DomainError,
  type FieldError,
  PayloadTooLargeError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '#core/errors.ts';
import type { Principal } from '#core/principal.ts';
import { authenticate } from './auth.ts';
import { config } from './config.ts';
import { logger } from './logger.ts';

type Infer<T> = T extends z.ZodType ? z.output<T> : undefined;
type RequestPart<R extends RouteSpec, K extends 'params' | 'query' | 'body'> = R['request'] extends {
  [P in K]: infer S;
}
  ? Infer<S>
  : undefined;

export interface HttpRequest<R extends RouteSpec> {
  params: RequestPart<R, 'params'>;
  query: RequestPart<R, 'query'>;
  body: RequestPart<R, 'body'>;
  principal: R['auth'] extends 'required' ? Principal : Principal | null;
  requestId: string;
  sourceIp: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
}

export type HttpResponse =
  | { status: number; body?: unknown; headers?: Record<string, string> }
  | { status: number; raw: string; contentType: string; base64?: boolean; headers?: Record<string, string> };

/** JSON bodies above this are refused before parsing; the API never carries media bytes. */
export const MAX_JSON_BODY_BYTES = 64 * 1024;

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

export const SECURITY_HEADERS: Record<string, string> = {
  'Strict-Transport-Security': 'max-age=63072000; includeSubDomains',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Resource-Policy': 'same-site',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
};

export const CORS_EXPOSED_HEADERS =
  'X-Request-Id, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Location';
export const CORS_ALLOWED_HEADERS = 'Authorization, Content-Type, X-Api-Key, X-Request-Id';

type Internal = {
  requestId: string;
  startedAt: number;
};
type HttpMiddyRequest = Request<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context, Internal>;

/** Wraps a route's business function in the one middleware stack every API handler shares. */
export function httpHandler<const R extends RouteSpec>(
  route: R,
  fn: (request: HttpRequest<R>) => Promise<HttpResponse>,
) {
  const { corsOrigins } = config(); // validates the whole config at cold start
  const routeName = `${route.method} ${route.path}`;
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context, Internal>({
    timeoutEarlyInMillis: 0,
  })
    .use(requestIdAndLogging(routeName))
    .use(securityHeaders())
    .use(cors(corsOrigins))
    .use(problemDetails())
    .handler(async (event) => {
      const headers = lowerCaseHeaders(event.headers);
      const principal = route.auth === 'none' ? null : await authenticate(headers);
      if (route.auth === 'required' && !principal) {
        throw new UnauthorizedError('This route needs a bearer token or an API key', null);
      }
      if (principal) await rememberUser(await db(), principal);
      const request = {
        params: parsePart(route.request?.params, event.pathParameters ?? {}, 'params'),
        query: parsePart(route.request?.query, event.queryStringParameters ?? {}, 'query'),
        body: route.request?.body
          ? parsePart(route.request.body, parseJsonBody(event, headers), 'body')
          : undefined,
        principal,
        requestId: requestIdOf(event),
        sourceIp: event.requestContext.identity?.sourceIp ?? '',
        headers,
      } as HttpRequest<R>;
      return toResult(await fn(request));
    });
}

/** The client's X-Request-Id when it is well-formed, else API Gateway's own request id. */
function requestIdOf(event: APIGatewayProxyEvent): string {
  const sent = headerValue(event.headers, 'x-request-id');
  if (sent && REQUEST_ID_PATTERN.test(sent)) return sent;
  return event.requestContext?.requestId ?? randomUUID();
}

function requestIdAndLogging(routeName: string): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  const before = (request: HttpMiddyRequest) => {
    const requestId = requestIdOf(request.event);
    request.internal = { requestId, startedAt: performance.now() };
    logger.appendKeys({ requestId, route: routeName });
  };
  const after = (request: HttpMiddyRequest) => {
    const { requestId, startedAt } = request.internal;
    if (!request.response) return;
    request.response.headers = { ...request.response.headers, 'X-Request-Id': requestId };
    logger.info('request completed', {
      status: request.response.statusCode,
      durationMs: Math.round((performance.now() - startedAt) * 100) / 100,
    });
  };
  return { before, after, onError: after } as MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult>;
}

function securityHeaders(): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  const apply = (request: HttpMiddyRequest) => {
    if (!request.response) return;
    request.response.headers = {
      ...SECURITY_HEADERS,
      'Cache-Control': 'no-store',
      ...request.response.headers,
    };
  };
  return { after: apply, onError: apply } as MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult>;
}

function cors(allowedOrigins: string[]): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  const apply = (request: HttpMiddyRequest) => {
    if (!request.response) return;
    const origin = headerValue(request.event.headers, 'origin');
    request.response.headers = { ...request.response.headers, ...corsHeaders(origin, allowedOrigins) };
  };
  return { after: apply, onError: apply } as MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult>;
}

/** CORS answer headers for an actual (non-preflight) response: only configured origins are echoed. */
export function corsHeaders(origin: string | undefined, allowedOrigins: string[]): Record<string, string> {
  if (!origin || !allowedOrigins.includes(origin)) return { Vary: 'Origin' };
  return {
    'Access-Control-Allow-Origin': origin,
    'Access-Control-Expose-Headers': CORS_EXPOSED_HEADERS,
    Vary: 'Origin',
  };
}

/** The one place errors become HTTP: domain errors keep their words, anything else is a bare 500. */
function problemDetails(): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  const onError = (request: HttpMiddyRequest) => {
    const error = request.error;
    const requestId = request.internal?.requestId ?? 'unknown';
    if (error instanceof DomainError) {
      if (error.status >= 500) logger.error('dependency failure', { error });
      else logger.info('request refused', { status: error.status, detail: error.message });
      request.response = problemResult(error.status, error.title, error.message, error.type, {
        errors: error.errors,
        headers: error.headers,
      });
      return;
    }
    logger.error('unhandled error', { error });
    request.response = problemResult(
      500,
      'Internal server error',
      `Something went wrong on our side. Quote request id ${requestId} if you report it.`,
      '/problems/internal-server-error',
    );
  };
  return { onError } as MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult>;
}

export function problemResult(
  status: number,
  title: string,
  detail: string,
  type: string,
  extra: { errors?: FieldError[] | undefined; headers?: Record<string, string> | undefined } = {},
): APIGatewayProxyResult {
  return {
    statusCode: status,
    headers: { 'Content-Type': 'application/problem+json', ...extra.headers },
    body: JSON.stringify({ type, title, status, detail, ...(extra.errors ? { errors: extra.errors } : {}) }),
  };
}

function toResult(response: HttpResponse): APIGatewayProxyResult {
  if ('raw' in response) {
    return {
      statusCode: response.status,
      headers: { 'Content-Type': response.contentType, ...response.headers },
      body: response.raw,
      isBase64Encoded: response.base64 ?? false,
    };
  }
  if (response.body === undefined) {
    return { statusCode: response.status, headers: { ...response.headers }, body: '' };
  }
  return {
    statusCode: response.status,
    headers: { 'Content-Type': 'application/json', ...response.headers },
    body: JSON.stringify(response.body),
  };
}

function parseJsonBody(event: APIGatewayProxyEvent, headers: Record<string, string>): unknown {
  const raw = event.body
    ? event.isBase64Encoded
      ? Buffer.from(event.body, 'base64').toString('utf8')
      : event.body
    : '';
  if (Buffer.byteLength(raw) > MAX_JSON_BODY_BYTES) {
    throw new PayloadTooLargeError(`Request bodies are limited to ${MAX_JSON_BODY_BYTES} bytes`);
  }
  if (raw.trim() === '') return {};
  const contentType = headers['content-type'] ?? '';
  if (!/^application\/([a-z.+-]*\+)?json\s*(;|$)/i.test(contentType)) {
    throw new UnsupportedMediaTypeError('Send the request body as application/json');
  }
  try {
    return JSON.parse(raw);
  } catch {
    throw new ValidationError('The request body is not valid JSON');
  }
}

function parsePart<S extends z.ZodType | undefined>(schema: S, value: unknown, where: string) {
  if (!schema) return undefined;
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ValidationError(`The request ${where === 'body' ? 'body' : where} is invalid`, {
    errors: zodFieldErrors(result.error, where),
  });
}

export function zodFieldErrors(error: z.ZodError, where: string): FieldError[] {
  return error.issues.map((issue) => ({
    path: [where, ...issue.path.map(String)].join('.'),
    message:
      issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : issue.message,
  }));
}

function lowerCaseHeaders(headers: APIGatewayProxyEvent['headers'] | null): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {}))
    if (value !== undefined) result[name.toLowerCase()] = value;
  return result;
}

function headerValue(headers: APIGatewayProxyEvent['headers'] | null, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers ?? {}))
    if (key.toLowerCase() === name) return value ?? undefined;
  return undefined;
}
