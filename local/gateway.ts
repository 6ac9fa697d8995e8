import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { RouteSpec } from '#api/route-spec.ts';
import { CORS_ALLOWED_HEADERS, corsHeaders } from '#http/cors.ts';
import { problemResult } from '#http/problem-details.ts';
import { SECURITY_HEADERS } from '#http/security-headers.ts';
import { invoke } from './invocations.ts';
import { lambdaContext } from './lambda-context.ts';

/**
 * The local stand-in for API Gateway (REST, v1 payload): matches a request against the route table,
 * turns it into the proxy event API Gateway would send, calls the very handler the route's Lambda runs,
 * and writes the result back. Requests it cannot route get the same problem+json the cloud API's
 * gateway responses give.
 */
export type ApiHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** Extra local-only endpoints (token issuer, CDN, web client): return true when handled. */
export type LocalEndpoint = (
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  body: Buffer,
) => Promise<boolean>;

export interface GatewayOptions {
  routes: Array<RouteSpec & { id: string }>;
  loadHandler: (entry: string) => Promise<ApiHandler>;
  corsOrigins: () => string[];
  endpoints?: LocalEndpoint[];
  accessLog?: (line: string) => void;
  /**
   * The `Host` values served, lower-case (e.g. `localhost:3000`); any other is refused with 421 before
   * anything else happens, so a page on a DNS-rebound name cannot reach the API or the token endpoint.
   */
  allowedHosts?: () => string[];
  /**
   * False while the runtime is still wiring the configuration the handlers read: requests then get a
   * 503 (with Retry-After) and nothing is loaded, so no handler module is ever evaluated without its
   * environment (an ES module that failed to evaluate stays failed for the life of the process).
   */
  ready?: () => boolean;
}

/** API Gateway's own payload limit. */
const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

interface CompiledRoute {
  route: RouteSpec & { id: string };
  pattern: RegExp;
  params: string[];
}

export function compileRoutes(routes: Array<RouteSpec & { id: string }>): CompiledRoute[] {
  return routes.map((route) => {
    const params: string[] = [];
    const source = route.path
      .split('/')
      .map((segment) => {
        const match = /^\{(\w+)\}$/.exec(segment);
        if (!match) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        params.push(match[1]!);
        return '([^/]+)';
      })
      .join('/');
    // As API Gateway (REST) does, a trailing slash reaches the same resource (/docs/ is /docs); the
    // event's path keeps it.
    return { route, pattern: new RegExp(`^${source}/?$`), params };
  });
}

export function createGateway(options: GatewayOptions): Server {
  const compiled = compileRoutes(options.routes);
  const handlers = new Map<string, Promise<ApiHandler>>();
  const handlerFor = (entry: string) => {
    let handler = handlers.get(entry);
    if (!handler) {
      handler = options.loadHandler(entry);
      handlers.set(entry, handler);
      // A load that failed is not kept: the next request tries again.
      handler.catch(() => handlers.delete(entry));
    }
    return handler;
  };

  return createServer((req, res) => {
    const started = performance.now();
    void serve(req, res).then(
      () =>
        options.accessLog?.(
          `${req.method} ${req.url} ${res.statusCode} ${Math.round(performance.now() - started)}ms`,
        ),
      (error: unknown) => {
        options.accessLog?.(`${req.method} ${req.url} failed: ${(error as Error).stack ?? error}`);
        if (!res.headersSent)
          send(
            res,
            problemResult(
              500,
              'Internal server error',
              'The local gateway failed',
              '/problems/internal-server-error',
              { headers: { ...SECURITY_HEADERS, 'Cache-Control': 'no-store' } },
            ),
          );
        else res.destroy();
      },
    );
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const requestId = randomUUID();
    const origin = req.headers.origin;
    const gatewayAnswer = (result: APIGatewayProxyResult) =>
      send(res, {
        ...result,
        headers: {
          ...SECURITY_HEADERS,
          'Cache-Control': 'no-store',
          ...corsHeaders(origin, options.corsOrigins()),
          'X-Request-Id': requestId,
          ...result.headers,
        },
      });

    if (options.ready && !options.ready()) {
      // Not even the CORS origins are known yet (they are configuration too).
      const starting = problemResult(
        503,
        'Service unavailable',
        'VideoCloud is starting; try again in a moment',
        '/problems/service-unavailable',
        {
          headers: {
            ...SECURITY_HEADERS,
            'Cache-Control': 'no-store',
            'X-Request-Id': requestId,
            'Retry-After': '1',
            Connection: 'close',
          },
        },
      );
      return send(res, starting);
    }
    const host = (req.headers.host ?? '').toLowerCase();
    if (options.allowedHosts && !options.allowedHosts().includes(host)) {
      return gatewayAnswer(
        problemResult(
          421,
          'Misdirected request',
          'This server answers only to the host names it serves (localhost, 127.0.0.1, [::1] and ALLOWED_HOSTS)',
          '/problems/misdirected-request',
          { headers: { Connection: 'close' } },
        ),
      );
    }
    const body = await readBody(req, MAX_REQUEST_BYTES);
    if (body === 'too-large') {
      return gatewayAnswer(
        problemResult(
          413,
          'Payload too large',
          'Requests are limited to 10 MiB',
          '/problems/payload-too-large',
          // The rest of the body is never read, so this connection cannot carry another request.
          { headers: { Connection: 'close' } },
        ),
      );
    }
    for (const endpoint of options.endpoints ?? []) if (await endpoint(req, res, url, body)) return;

    const method = (req.method ?? 'GET').toUpperCase();
    const pathMatches = compiled.filter((candidate) => candidate.pattern.test(url.pathname));
    if (method === 'OPTIONS' && pathMatches.length > 0) {
      return gatewayAnswer(
        preflight(
          origin,
          options.corsOrigins(),
          pathMatches.map((m) => m.route.method),
        ),
      );
    }
    const matched = pathMatches.find((candidate) => candidate.route.method === method);
    if (!matched) {
      return gatewayAnswer(
        pathMatches.length > 0
          ? problemResult(
              405,
              'Method not allowed',
              `${method} is not supported on ${url.pathname}`,
              '/problems/method-not-allowed',
              {
                headers: { Allow: pathMatches.map((m) => m.route.method).join(', ') },
              },
            )
          : problemResult(404, 'Not found', `No route for ${method} ${url.pathname}`, '/problems/not-found'),
      );
    }

    const event = toProxyEvent(req, url, body, matched, requestId);
    const handler = await handlerFor(matched.route.entry);
    const timeoutMs = (matched.route.lambda?.timeoutSeconds ?? 29) * 1000;
    const name = `api-${matched.route.entry}`;
    const result = await invoke(name, () => handler(event, lambdaContext(name, timeoutMs)));
    send(res, result);
  }
}

function preflight(origin: string | undefined, allowed: string[], methods: string[]): APIGatewayProxyResult {
  if (!origin || !allowed.includes(origin)) return { statusCode: 204, headers: { Vary: 'Origin' }, body: '' };
  return {
    statusCode: 204,
    headers: {
      'Access-Control-Allow-Origin': origin,
      'Access-Control-Allow-Methods': [...new Set([...methods, 'OPTIONS'])].join(', '),
      'Access-Control-Allow-Headers': CORS_ALLOWED_HEADERS,
      'Access-Control-Max-Age': '600',
      Vary: 'Origin',
    },
    body: '',
  };
}

export function toProxyEvent(
  req: IncomingMessage,
  url: URL,
  body: Buffer,
  matched: CompiledRoute,
  requestId: string,
): APIGatewayProxyEvent {
  const values = matched.pattern.exec(url.pathname)!.slice(1);
  const pathParameters = Object.fromEntries(matched.params.map((name, i) => [name, safeDecode(values[i]!)]));
  // Null-prototype maps: a header or query parameter named "constructor" or "__proto__" is just a name.
  const headers: Record<string, string> = Object.create(null);
  const multiValueHeaders: Record<string, string[]> = Object.create(null);
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    const value = req.rawHeaders[i + 1]!;
    headers[name] = value;
    (multiValueHeaders[name] ??= []).push(value);
  }
  const query: Record<string, string> = Object.create(null);
  const multiQuery: Record<string, string[]> = Object.create(null);
  for (const [name, value] of url.searchParams) {
    query[name] = value;
    (multiQuery[name] ??= []).push(value);
  }
  const contentType = String(req.headers['content-type'] ?? '');
  const textual = body.length === 0 || /json|text|xml|x-www-form-urlencoded/i.test(contentType);
  const method = (req.method ?? 'GET').toUpperCase();
  return {
    resource: matched.route.path,
    path: url.pathname,
    httpMethod: method,
    headers,
    multiValueHeaders,
    queryStringParameters: Object.keys(query).length ? query : null,
    multiValueQueryStringParameters: Object.keys(multiQuery).length ? multiQuery : null,
    pathParameters: matched.params.length ? pathParameters : null,
    stageVariables: null,
    body: body.length === 0 ? null : textual ? body.toString('utf8') : body.toString('base64'),
    isBase64Encoded: body.length > 0 && !textual,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: null,
      httpMethod: method,
      path: url.pathname,
      protocol: `HTTP/${req.httpVersion}`,
      requestId,
      requestTimeEpoch: Date.now(),
      resourceId: matched.route.id,
      resourcePath: matched.route.path,
      stage: 'local',
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        user: null,
        userAgent: String(req.headers['user-agent'] ?? ''),
        userArn: null,
      },
    },
  };
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return 'too-large';
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function send(res: ServerResponse, result: APIGatewayProxyResult): void {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {}))
    headers[name] = values.map(String);
  const body = result.isBase64Encoded
    ? Buffer.from(result.body, 'base64')
    : Buffer.from(result.body ?? '', 'utf8');
  res.writeHead(result.statusCode, { ...headers, 'Content-Length': String(body.length) });
  res.end(body);
}
