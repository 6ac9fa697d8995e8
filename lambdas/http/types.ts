import type { MiddlewareObj, Request } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { RouteSpec } from '#api/route-spec.ts';
import type { Principal } from '#core/principal.ts';
import type { BucketPolicy, Budget } from '#core/rate-limit.ts';
import type * as z from '#shared/zod.ts';

type Infer<T> = T extends z.ZodMiniType ? z.output<T> : undefined;
type RequestPart<R extends RouteSpec, K extends 'params' | 'query' | 'body'> = R['request'] extends {
  [P in K]: infer S;
}
  ? Infer<S>
  : undefined;

/** What a route's business function is handed: validated parts and the caller. */
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

/**
 * Per-call state, kept on the invocation's `request.context` under a symbol (never keyed by the event):
 * each middleware writes what it learned, the route function gets its validated parts from it, and the
 * middlewares answering after the handler read it. Lambda (and the local gateway) make one context per
 * invocation.
 */
export interface CallState {
  requestId: string;
  startedAt: number;
  /** Lower-cased request headers. */
  headers: Record<string, string>;
  sourceIp: string;
  principal: Principal | null;
  /** Validated request parts (validation middleware). */
  params?: unknown;
  query?: unknown;
  body?: unknown;
  /** RateLimit-* headers for the answer (rate-limit middleware). */
  rateHeaders?: Record<string, string>;
  /** A token taken from a budget spent on success only: given back unless the call succeeds. */
  taken?: { budget: Budget; caller: string; policy: BucketPolicy };
  /** Why the call was refused (a 4xx domain error's words), for its one "request completed" log line. */
  refusal?: string;
  /** The route function's answer before it became a proxy result (audit reads the created id). */
  answer?: HttpResponse;
}

export type HttpMiddyRequest = Request<
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  Error,
  Context,
  Record<string, unknown>
>;

const CALL_STATE = Symbol('videocloud.call');
type WithState = { [CALL_STATE]?: CallState };

export type HttpMiddleware = MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context>;

/** The call state of an invocation (set up by the request-id middleware, which runs first). */
export function callState(request: Pick<HttpMiddyRequest, 'context'>): CallState {
  return stateOf(request.context)!;
}

export function stateOf(context: Context): CallState | undefined {
  return (context as WithState)[CALL_STATE];
}

export function startCall(context: Context, state: CallState): void {
  (context as WithState)[CALL_STATE] = state;
}

/** A middleware as middy takes it, from hooks typed on our request. */
export function middleware(hooks: {
  before?: (request: HttpMiddyRequest) => unknown;
  after?: (request: HttpMiddyRequest) => unknown;
  onError?: (request: HttpMiddyRequest) => unknown;
}): HttpMiddleware {
  return hooks as HttpMiddleware;
}
