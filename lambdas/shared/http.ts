import { randomUUID } from 'node:crypto';
import middy, { type MiddlewareObj, type Request } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { z } from 'zod';
import { PostgresAuditLog } from '#adapters/db/audit.ts';
import { db } from '#adapters/db/index.ts';
import { rememberUser } from '#adapters/db/users.ts';
import { rateLimiter } from '#adapters/rate-limit.ts';
import type { RouteSpec } from '#api/route-spec.ts';
import { type AuditEntry, auditActor } from '#core/audit.ts';
import {
  DomainError,
  type FieldError,
  PayloadTooLargeError,
  RateLimitedError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '#core/errors.ts';
import type { Principal } from '#core/principal.ts';
import { type BucketPolicy, type Budget, rateLimitHeaders, SPENT_ON_SUCCESS } from '#core/rate-limit.ts';
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
    .use(auditAndRateLimitHeaders(route))
    .use(problemDetails())
    .handler(async (event) => {
      const headers = lowerCaseHeaders(event.headers);
      const sourceIp = event.requestContext?.identity?.sourceIp ?? '';
      const call: CallState = { principal: null, sourceIp, rateHeaders: {} };
      callStates.set(event, call);
      let principal: Principal | null;
      try {
        principal = route.auth === 'none' ? null : await authenticate(headers);
        if (route.auth === 'required' && !principal) {
          throw new UnauthorizedError('This route needs a bearer token or an API key', null);
        }
      } catch (error) {
        // Failed authentication spends the client IP's budget, so keys and tokens cannot be brute-forced.
        if (error instanceof UnauthorizedError) await limitRate(route, null, call);
        throw error;
      }
      call.principal = principal;
      if (principal) await rememberUser(await db(), principal);
      await limitRate(route, principal, call);
      const request = {
        params: parsePart(route.request?.params, event.pathParameters ?? {}, 'params'),
        query: parsePart(route.request?.query, event.queryStringParameters ?? {}, 'query'),
        body: route.request?.body
          ? parsePart(route.request.body, parseJsonBody(event, headers), 'body')
          : undefined,
        principal,
        requestId: requestIdOf(event),
        sourceIp,
        headers,
      } as HttpRequest<R>;
      const response = await fn(request);
      if (route.audit && response.status < 300) {
        const body = 'body' in response ? (response.body as Record<string, unknown> | undefined) : undefined;
        const targetId = route.audit.bodyId
          ? body?.[route.audit.bodyId]
          : Object.values(event.pathParameters ?? {})[0];
        await appendAudit({
          ...auditActor(principal),
          action: route.audit.action,
          outcome: 'success',
          status: response.status,
          targetType: route.audit.target,
          targetId: typeof targetId === 'string' ? targetId : null,
          requestId: request.requestId,
          sourceIp,
          detail: null,
        });
      }
      return toResult(response);
    });
}

interface CallState {
  principal: Principal | null;
  sourceIp: string;
  rateHeaders: Record<string, string>;
  /** A token taken from a budget spent on success only: given back unless the call succeeds. */
  taken?: { budget: Budget; caller: string; policy: BucketPolicy };
}
/** What the handler learned about a call, for the middlewares that answer after it (keyed by event). */
const callStates = new WeakMap<APIGatewayProxyEvent, CallState>();

/**
 * Takes a token from the caller's bucket for this route's budget; 429 with Retry-After when empty.
 * The bucket is the owning user's, whichever credential (token or any of their API keys) is used; the
 * client IP's when unauthenticated. Public routes (auth: none) are left to API Gateway throttling and
 * the WAF. Should the state table be unreachable the call goes through (logged): the gateway's
 * throttling and the WAF still stand.
 */
async function limitRate(route: RouteSpec, principal: Principal | null, call: CallState): Promise<void> {
  const { rateLimits } = config();
  if (!rateLimits.enabled || route.auth === 'none') return;
  const budget = route.rateLimit ?? (route.method === 'GET' ? 'read' : 'write');
  const caller = principal ? `user:${principal.userId}` : `ip:${call.sourceIp || 'unknown'}`;
  let decision: Awaited<ReturnType<ReturnType<typeof rateLimiter>['take']>>;
  try {
    decision = await rateLimiter().take(budget, caller, rateLimits[budget]);
  } catch (error) {
    logger.error('rate limiter unavailable; request let through', { error, budget });
    return;
  }
  call.rateHeaders = rateLimitHeaders(decision);
  if (decision.allowed && principal && SPENT_ON_SUCCESS.has(budget)) {
    call.taken = { budget, caller, policy: rateLimits[budget] };
  }
  if (!decision.allowed) {
    throw new RateLimitedError(
      `Too many ${budget} requests; try again in ${decision.retryAfterSeconds} s`,
      decision.retryAfterSeconds,
      call.rateHeaders,
    );
  }
}

/** Gives the call's token back (once); a failed refund is logged and costs the caller one token. */
async function refund(call: CallState): Promise<void> {
  const taken = call.taken;
  call.taken = undefined;
  if (!taken) return;
  try {
    call.rateHeaders = rateLimitHeaders(await rateLimiter().refund(taken.budget, taken.caller, taken.policy));
  } catch (error) {
    logger.error('rate limit refund failed', { error, budget: taken.budget });
  }
}

/** Appends to the audit log; a failed write is logged with the whole entry and never fails the call. */
async function appendAudit(entry: AuditEntry): Promise<void> {
  try {
    await new PostgresAuditLog(await db()).append(entry);
  } catch (error) {
    logger.error('audit log write failed', { error, audit: entry });
  }
}

/**
 * RateLimit-* headers on every answer, a refund of a budget spent on success only when the call did not
 * succeed, and an audit entry for every denied attempt (401/403).
 */
function auditAndRateLimitHeaders(
  route: RouteSpec,
): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  const after = async (request: HttpMiddyRequest) => {
    const call = callStates.get(request.event);
    if (!request.response || !call) return;
    if (call.taken && request.response.statusCode >= 300) await refund(call);
    request.response.headers = { ...call.rateHeaders, ...request.response.headers };
  };
  const onError = async (request: HttpMiddyRequest) => {
    await after(request);
    const status = request.response?.statusCode;
    if (status !== 401 && status !== 403) return;
    const call = callStates.get(request.event);
    await appendAudit({
      ...auditActor(call?.principal ?? null),
      action: route.audit?.action ?? `${route.method} ${route.path}`,
      outcome: 'denied',
      status,
      targetType: route.audit?.target ?? null,
      targetId: Object.values(request.event.pathParameters ?? {})[0]?.slice(0, 256) ?? null,
      requestId: request.internal?.requestId ?? requestIdOf(request.event),
      sourceIp: call?.sourceIp ?? request.event.requestContext?.identity?.sourceIp ?? '',
      detail: request.error?.message.slice(0, 500) ?? null,
    });
  };
  return { after, onError } as MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult>;
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
  const nul = nulPath(value, [where]);
  if (nul) {
    throw new ValidationError(`The request ${where} is invalid`, {
      errors: [{ path: nul.join('.'), message: 'NUL characters (U+0000) are not allowed' }],
    });
  }
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ValidationError(`The request ${where === 'body' ? 'body' : where} is invalid`, {
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
