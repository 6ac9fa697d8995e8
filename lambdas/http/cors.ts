import { headerValue } from './headers.ts';
import { type HttpMiddyRequest, middleware } from './types.ts';

export const CORS_EXPOSED_HEADERS =
  'X-Request-Id, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Location';
export const CORS_ALLOWED_HEADERS = 'Authorization, Content-Type, X-Api-Key, X-Request-Id';

/** CORS answer headers for an actual (non-preflight) response: only configured origins are echoed. */
export function corsHeaders(origin: string | undefined, allowedOrigins: string[]): Record<string, string> {
  if (!origin || !allowedOrigins.includes(origin)) return { Vary: 'Origin' };
  return {
    'Access-Control-Allow-Origin': origin,
    'Access-Control-Expose-Headers': CORS_EXPOSED_HEADERS,
    Vary: 'Origin',
  };
}

/** CORS headers on every answer (preflights are API Gateway's, and the local gateway's). */
export function cors(allowedOrigins: string[]) {
  const apply = (request: HttpMiddyRequest) => {
    if (!request.response) return;
    const origin = headerValue(request.event.headers, 'origin');
    request.response.headers = { ...request.response.headers, ...corsHeaders(origin, allowedOrigins) };
  };
  return middleware({ after: apply, onError: apply });
}
