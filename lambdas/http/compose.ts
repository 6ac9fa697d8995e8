import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { RouteSpec } from '#api/route-spec.ts';
import type { Budget } from '#core/rate-limit.ts';
import { config } from '#shared/config.ts';
import { audit } from './audit.ts';
import { auth } from './auth.ts';
import { cors } from './cors.ts';
import { jsonBody } from './json-body.ts';
import type { EdgePorts } from './ports.ts';
import { problemDetails } from './problem-details.ts';
import { rateLimit } from './rate-limit.ts';
import { requestIdAndLogging } from './request-id.ts';
import { securityHeaders } from './security-headers.ts';
import { type HttpMiddleware, type HttpRequest, type HttpResponse, stateOf } from './types.ts';
import { validation } from './validation.ts';

/** What a route's row in the table asks of the edge: whom it serves, which bucket it spends, what it audits. */
export interface EdgeNeeds {
  auth: RouteSpec['auth'];
  /** The token bucket a call draws from; none for public routes (API Gateway throttling and the WAF). */
  rateLimit: Budget | null;
  /** Audit entries: success of a state change, and denied attempts (401/403) of every authenticated route. */
  audit: boolean;
  jsonBody: boolean;
}

export function edgeNeeds(route: RouteSpec): EdgeNeeds {
  const authenticated = route.auth !== 'none';
  return {
    auth: route.auth,
    rateLimit: authenticated ? (route.rateLimit ?? (route.method === 'GET' ? 'read' : 'write')) : null,
    audit: authenticated || route.audit !== undefined,
    jsonBody: route.request?.body !== undefined,
  };
}

/** Public routes take no ports; any other route gets the authentication, rate-limit and audit ports. */
export type PortsFor<R extends RouteSpec> = R['auth'] extends 'none' ? null : EdgePorts;

/**
 * A route's handler: its business function behind the middlewares its row asks for, in middy's order
 * (before hooks run top-down, after and onError bottom-up):
 *   request id + logging, security headers, CORS,          every route
 *   audit, auth, rate limit,                               authenticated routes (with their ports)
 *   problem details,                                       every route (errors -> problem+json)
 *   params/query validation, JSON body, body validation    routes with those parts
 * so a 401 is audited with its problem's status and every answer carries the headers.
 */
export function httpHandler<const R extends RouteSpec>(
  route: R,
  ports: PortsFor<R>,
  fn: (request: HttpRequest<R>) => Promise<HttpResponse>,
) {
  const { corsOrigins } = config(); // validates the whole config at cold start
  const needs = edgeNeeds(route);
  const chain: HttpMiddleware[] = [
    requestIdAndLogging(`${route.method} ${route.path}`),
    securityHeaders(),
    cors(corsOrigins),
  ];
  if (needs.auth !== 'none') {
    if (!ports) throw new Error(`${route.method} ${route.path} authenticates, so it needs the edge ports`);
    const limiter = needs.rateLimit ? rateLimit(needs.rateLimit, ports) : undefined;
    if (needs.audit) chain.push(audit(route, ports));
    chain.push(auth(needs.auth, ports, limiter?.chargeRefused));
    if (limiter) chain.push(limiter);
  } else if (needs.audit) {
    throw new Error(`${route.method} ${route.path} is public; public routes are not audited`);
  }
  chain.push(problemDetails(), validation(route, ['params', 'query']));
  if (needs.jsonBody) chain.push(jsonBody(), validation(route, ['body']));

  const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context>({
    timeoutEarlyInMillis: 0,
  });
  for (const middleware of chain) handler.use(middleware);
  return handler.handler(async (_event, context) => {
    const state = stateOf(context)!;
    const answer = await fn({
      params: state.params,
      query: state.query,
      body: state.body,
      principal: state.principal,
      requestId: state.requestId,
      sourceIp: state.sourceIp,
      headers: state.headers,
    } as HttpRequest<R>);
    state.answer = answer;
    return toResult(answer);
  });
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
