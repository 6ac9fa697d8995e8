/**
 * Domain errors. Core throws these; exactly one middleware (lambdas/http/problem-details.ts) turns them into RFC 9457
 * problem+json. Anything else that escapes a handler is a 500 whose details never leave the server.
 */
export interface FieldError {
  path: string;
  message: string;
}

export abstract class DomainError extends Error {
  abstract readonly status: number;
  abstract readonly title: string;
  /** A URI reference naming the problem type; relative, resolved against the API base. */
  get type(): string {
    return `/problems/${this.title.toLowerCase().replaceAll(/[^a-z0-9]+/g, '-')}`;
  }
  readonly errors?: FieldError[];
  readonly headers?: Record<string, string>;
  constructor(detail: string, extra: { errors?: FieldError[]; headers?: Record<string, string> } = {}) {
    super(detail);
    this.name = new.target.name;
    if (extra.errors) this.errors = extra.errors;
    if (extra.headers) this.headers = extra.headers;
  }
}

export class ValidationError extends DomainError {
  readonly status = 400;
  readonly title = 'Invalid request';
}

export class UnauthorizedError extends DomainError {
  readonly status = 401;
  readonly title = 'Unauthorized';
  constructor(detail: string, bearerError: 'invalid_token' | 'invalid_request' | null = 'invalid_token') {
    const challenge = bearerError
      ? `Bearer realm="videocloud", error="${bearerError}", error_description="${detail.replaceAll('"', "'")}"`
      : 'Bearer realm="videocloud"';
    super(detail, { headers: { 'WWW-Authenticate': challenge } });
  }
}

export class ForbiddenError extends DomainError {
  readonly status = 403;
  readonly title = 'Forbidden';
}

export class NotFoundError extends DomainError {
  readonly status = 404;
  readonly title = 'Not found';
}

export class MethodNotAllowedError extends DomainError {
  readonly status = 405;
  readonly title = 'Method not allowed';
}

export class ConflictError extends DomainError {
  readonly status = 409;
  readonly title = 'Conflict';
}

export class PayloadTooLargeError extends DomainError {
  readonly status = 413;
  readonly title = 'Payload too large';
}

/**
 * 413 with its own problem type (`/problems/storage-quota-exceeded`): the request is too large for what
 * the caller has left, as PeerTube answers a full user quota; a file over the size limit is the plain 413.
 */
export class QuotaExceededError extends DomainError {
  readonly status = 413;
  readonly title = 'Storage quota exceeded';
}

export class UnsupportedMediaTypeError extends DomainError {
  readonly status = 415;
  readonly title = 'Unsupported media type';
}

export class RateLimitedError extends DomainError {
  readonly status = 429;
  readonly title = 'Too many requests';
  constructor(detail: string, retryAfterSeconds: number, headers: Record<string, string> = {}) {
    super(detail, {
      headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))), ...headers },
    });
  }
}

export class DependencyUnavailableError extends DomainError {
  readonly status = 503;
  readonly title = 'Service unavailable';
}
