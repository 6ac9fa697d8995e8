import type { APIGatewayProxyEvent } from 'aws-lambda';

/** The smallest API Gateway proxy event a handler reads: a GET of `path` (its resource too), no headers or body. */
export function gatewayEvent(path: string, requestId = 'req-1'): APIGatewayProxyEvent {
  return {
    httpMethod: 'GET',
    path,
    resource: path,
    headers: {},
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    requestContext: { requestId, identity: { sourceIp: '127.0.0.1' } },
  } as unknown as APIGatewayProxyEvent;
}
