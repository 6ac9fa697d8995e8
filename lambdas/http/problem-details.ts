import type { APIGatewayProxyResult } from 'aws-lambda';
import { DomainError, type FieldError } from '#core/errors.ts';
import { logger } from '#shared/logger.ts';
import { type HttpMiddyRequest, middleware, stateOf } from './types.ts';

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

/** The one place errors become HTTP: domain errors keep their words, anything else is a bare 500. */
export function problemDetails() {
  const onError = (request: HttpMiddyRequest) => {
    const error = request.error;
    const state = stateOf(request.context);
    const requestId = state?.requestId ?? 'unknown';
    if (error instanceof DomainError) {
      if (error.status >= 500) logger.error('dependency failure', { error });
      else if (state) state.refusal = error.message;
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
  return middleware({ onError });
}
