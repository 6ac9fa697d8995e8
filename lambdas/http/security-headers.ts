import { type HttpMiddyRequest, middleware } from './types.ts';

export const SECURITY_HEADERS: Record<string, string> = {
  'Strict-Transport-Security': 'max-age=63072000; includeSubDomains',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Resource-Policy': 'same-site',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
};

/** Security headers and `Cache-Control: no-store` on every answer, unless the route set its own. */
export function securityHeaders() {
  const apply = (request: HttpMiddyRequest) => {
    if (!request.response) return;
    request.response.headers = {
      ...SECURITY_HEADERS,
      'Cache-Control': 'no-store',
      ...request.response.headers,
    };
  };
  return middleware({ after: apply, onError: apply });
}
