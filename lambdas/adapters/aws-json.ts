import http from 'node:http';
import https from 'node:https';
import type { SignatureV4 } from '@smithy/signature-v4';
import { config } from '#shared/config.ts';
import { signerFor } from './sigv4.ts';

/**
 * The few DynamoDB, SQS and Secrets Manager calls of the API edge (rate limiting, queue sends, the
 * playback key), made without the AWS SDK clients: these services speak the AWS JSON protocol (a POST
 * of the input as JSON, the operation in `X-Amz-Target`), so one SigV4-signed request per call is the
 * whole client. The
 * SDK's client, credential chain and endpoint rules are about 300 KB of every function bundle that
 * uses them and most of its import time (issue 14); signing is @smithy/signature-v4, the SDK's own
 * signer, on node:crypto (sigv4.ts). Tested against the local stand-ins, which verify every signature
 * (local/dynamo.ts, local/sqs.ts), and Secrets Manager against a SigV4-checking test server.
 *
 * What the SDK adds and this does not need: its credential chain (Lambda puts the execution role's
 * credentials in the environment, which is the chain's first link and the only one used here; the local
 * runtime sets the same variables), endpoint rules beyond the regional endpoint (no FIPS or dual-stack
 * endpoints are configured), and response checksums (TLS covers the transport). Retries are the SDK's
 * standard mode: up to 3 attempts for throttling, 5xx and broken connections, with jittered backoff.
 */

/** Each service's signing name, `X-Amz-Target` prefix and JSON protocol version. */
const SERVICES = {
  dynamodb: { target: 'DynamoDB_20120810', json: '1.0' },
  sqs: { target: 'AmazonSQS', json: '1.0' },
  secretsmanager: { target: 'secretsmanager', json: '1.1' },
} as const;

export type JsonService = keyof typeof SERVICES;

/** An error answer of an AWS service: `name` is the error type (`ConditionalCheckFailedException`...). */
export class AwsServiceError extends Error {
  constructor(
    name: string,
    message: string,
    readonly statusCode: number,
  ) {
    super(message);
    this.name = name;
  }

  get retryable(): boolean {
    return this.statusCode >= 500 || THROTTLING.has(this.name);
  }
}

const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'LimitExceededException',
]);

const MAX_ATTEMPTS = 3;
const TIMEOUT_MS = 10_000;

/** The service's regional endpoint, or the stand-in's when config names one. */
function endpointOf(service: JsonService): URL {
  const { region, dynamodbEndpoint, sqsEndpoint, secretsManagerEndpoint } = config();
  const override = { dynamodb: dynamodbEndpoint, sqs: sqsEndpoint, secretsmanager: secretsManagerEndpoint }[
    service
  ];
  const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return new URL(override ?? `https://${service}.${region}.${suffix}`);
}

const signers = new Map<JsonService, SignatureV4>();
const agents = {
  'http:': new http.Agent({ keepAlive: true }),
  'https:': new https.Agent({ keepAlive: true }),
};

/** Calls one operation (`UpdateItem`, `SendMessageBatch`...) and returns its parsed output. */
export async function awsJsonCall<Output>(
  service: JsonService,
  operation: string,
  input: object,
): Promise<Output> {
  for (let attempt = 1; ; attempt++) {
    try {
      return (await callOnce(service, operation, input)) as Output;
    } catch (error) {
      const retryable =
        error instanceof AwsServiceError
          ? error.retryable
          : (error as NodeJS.ErrnoException).code !== undefined;
      if (!retryable || attempt >= MAX_ATTEMPTS) throw error;
      // Full jitter over 100 ms, 200 ms (the SDK's standard retry mode).
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 100 * 2 ** (attempt - 1)));
    }
  }
}

async function callOnce(service: JsonService, operation: string, input: object): Promise<unknown> {
  const endpoint = endpointOf(service);
  let signer = signers.get(service);
  if (!signer) {
    signer = signerFor(service);
    signers.set(service, signer);
  }
  const body = JSON.stringify(input);
  const signed = await signer.sign({
    method: 'POST',
    protocol: endpoint.protocol,
    hostname: endpoint.hostname,
    ...(endpoint.port ? { port: Number(endpoint.port) } : {}),
    path: endpoint.pathname,
    query: {},
    headers: {
      host: endpoint.host,
      'content-type': `application/x-amz-json-${SERVICES[service].json}`,
      'x-amz-target': `${SERVICES[service].target}.${operation}`,
    },
    body,
  });
  const { status, text } = await post(endpoint, signed.headers, body);
  const parsed: Record<string, unknown> = text ? JSON.parse(text) : {};
  if (status >= 200 && status < 300) return parsed;
  // `__type` is `namespace#ErrorName`, sometimes with a `:` suffix; the message key's case varies.
  const type = String(parsed.__type ?? parsed.code ?? `Http${status}`);
  const name = type.slice(type.lastIndexOf('#') + 1).split(':')[0]!;
  const message = String(parsed.message ?? parsed.Message ?? `${service} ${operation} failed with ${status}`);
  throw new AwsServiceError(name, message, status);
}

function post(
  endpoint: URL,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; text: string }> {
  const transport = endpoint.protocol === 'http:' ? http : https;
  return new Promise((resolve, reject) => {
    const request = transport.request(
      endpoint,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        agent: agents[endpoint.protocol === 'http:' ? 'http:' : 'https:'],
        timeout: TIMEOUT_MS,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        response.on('error', reject);
      },
    );
    request.on('timeout', () =>
      request.destroy(Object.assign(new Error(`no answer within ${TIMEOUT_MS} ms`), { code: 'ETIMEDOUT' })),
    );
    request.on('error', reject);
    request.end(body);
  });
}
