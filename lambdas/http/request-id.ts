import { randomUUID } from 'node:crypto';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { logger } from '#shared/logger.ts';
import { headerValue, lowerCaseHeaders } from './headers.ts';
import { type CallState, callState, type HttpMiddyRequest, middleware, startCall } from './types.ts';

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** The client's X-Request-Id when it is well-formed, else API Gateway's own request id. */
export function requestIdOf(event: APIGatewayProxyEvent): string {
  const sent = headerValue(event.headers, 'x-request-id');
  if (sent && REQUEST_ID_PATTERN.test(sent)) return sent;
  return event.requestContext?.requestId ?? randomUUID();
}

/**
 * Runs first: starts the call state, puts the Lambda context (Powertools `injectLambdaContext`), the
 * request id and the route on every log line of the call, answers with X-Request-Id, and logs one
 * "request completed" line with status and duration (and, for a refusal, why). Keys are reset after each call.
 */
export function requestIdAndLogging(routeName: string) {
  const context = injectLambdaContext(logger, { resetKeys: true }) as MiddlewareObj;
  const before = async (request: HttpMiddyRequest) => {
    const requestId = requestIdOf(request.event);
    const state: CallState = {
      requestId,
      startedAt: performance.now(),
      headers: lowerCaseHeaders(request.event.headers),
      sourceIp: request.event.requestContext?.identity?.sourceIp ?? '',
      principal: null,
    };
    startCall(request.context, state);
    await context.before?.(request as never);
    logger.appendKeys({ requestId, route: routeName });
  };
  const finish = (hook: 'after' | 'onError') => async (request: HttpMiddyRequest) => {
    const { requestId, startedAt, refusal } = callState(request);
    if (request.response) {
      request.response.headers = { ...request.response.headers, 'X-Request-Id': requestId };
      logger.info('request completed', {
        status: request.response.statusCode,
        durationMs: Math.round((performance.now() - startedAt) * 100) / 100,
        ...(refusal === undefined ? {} : { detail: refusal }),
      });
    }
    await context[hook]?.(request as never);
  };
  return middleware({ before, after: finish('after'), onError: finish('onError') });
}
