import type { SignatureV4 } from '@smithy/signature-v4';
import { config } from '#shared/config.ts';
import { AwsServiceError, send, withRetries } from './signed-request.ts';
import { signerFor } from './sigv4.ts';

/**
 * The few DynamoDB, SQS and Secrets Manager calls of the API edge (rate limiting, queue sends, the
 * playback key), made without the AWS SDK clients: these services speak the AWS JSON protocol (a POST
 * of the input as JSON, the operation in `X-Amz-Target`), so one SigV4-signed request per call is the
 * whole client. The SDK's client, credential chain and endpoint rules are about 300 KB of every function
 * bundle that uses them and most of its import time (issue 14); signing is @smithy/signature-v4, the SDK's own
 * signer, on node:crypto (sigv4.ts). Tested against the local stand-ins, which verify every signature
 * (local/dynamo.ts, local/sqs.ts), and Secrets Manager against a SigV4-checking test server.
 *
 * What the SDK adds and this does not need: its credential chain (Lambda puts the execution role's
 * credentials in the environment, which is the chain's first link and the only one used here; the local
 * runtime sets the same variables), endpoint rules beyond the regional endpoint (no FIPS or dual-stack
 * endpoints are configured), and response checksums (TLS covers the transport). Retries are the SDK's
 * standard mode (signed-request.ts).
 */

/** Each service's signing name, `X-Amz-Target` prefix and JSON protocol version. */
const SERVICES = {
  dynamodb: { target: 'DynamoDB_20120810', json: '1.0' },
  sqs: { target: 'AmazonSQS', json: '1.0' },
  secretsmanager: { target: 'secretsmanager', json: '1.1' },
} as const;

export type JsonService = keyof typeof SERVICES;

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

/** Calls one operation (`UpdateItem`, `SendMessageBatch`...) and returns its parsed output. */
export async function awsJsonCall<Output>(
  service: JsonService,
  operation: string,
  input: object,
): Promise<Output> {
  return (await withRetries(() => callOnce(service, operation, input))) as Output;
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
  const answer = await send(endpoint, 'POST', signed.headers, body);
  const status = answer.status;
  const parsed = parseJson(answer.body.toString('utf8'));
  if (status >= 200 && status < 300) return parsed;
  // `__type` is `namespace#ErrorName`, sometimes with a `:` suffix; the message key's case varies.
  const type = String(parsed.__type ?? parsed.code ?? `Http${status}`);
  const name = type.slice(type.lastIndexOf('#') + 1).split(':')[0]!;
  const message = String(parsed.message ?? parsed.Message ?? `${service} ${operation} failed with ${status}`);
  throw new AwsServiceError(name, message, status);
}

function parseJson(text: string): Record<string, unknown> {
  try {
    return text ? JSON.parse(text) : {};
  } catch {
    return {}; // e.g. a proxy's HTML error page: the status decides
  }
}
