import { mkdirSync } from 'node:fs';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { CreateTableCommand, DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { stateTable } from '#shared/resources.ts';
import {
  incomingRequest,
  LOCAL_REGION,
  type LocalCredentials,
  readBody,
  SigV4Failure,
  type SigV4FailureCode,
  sha256Hex,
  verifySigV4Request,
} from './sigv4.ts';

export interface LocalDynamo {
  endpoint: string;
  stop(): Promise<void>;
}

/**
 * dynalite in-process on loopback, persisted under `directory`, with the state table created from the
 * same key definition the CDK app uses. dynalite has no TTL: readers check expiry themselves (as they
 * must in the cloud too, since DynamoDB deletes expired items lazily). dynalite checks only that a
 * signature is present, so every request is SigV4-verified first, body included, against the runtime's
 * credentials (see requireSignature).
 */
export async function startLocalDynamo(options: {
  directory: string;
  tableName: string;
  credentials: LocalCredentials;
}): Promise<LocalDynamo> {
  mkdirSync(options.directory, { recursive: true });
  const server = dynalite({ path: options.directory, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  requireSignature(server, options.credentials);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: options.credentials,
  });
  try {
    await client.send(
      new CreateTableCommand({
        TableName: options.tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: stateTable.partitionKey, AttributeType: 'S' },
          { AttributeName: stateTable.sortKey, AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: stateTable.partitionKey, KeyType: 'HASH' },
          { AttributeName: stateTable.sortKey, KeyType: 'RANGE' },
        ],
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  } finally {
    client.destroy();
  }
  return {
    endpoint,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      }),
  };
}

/** dynalite's own request limit. */
const MAX_REQUEST_BYTES = 16 * 1024 * 1024;

const DYNAMO_ERRORS: Partial<Record<SigV4FailureCode, string>> = {
  MissingAuthentication: 'MissingAuthenticationTokenException',
  InvalidAccessKeyId: 'UnrecognizedClientException',
  SignatureDoesNotMatch: 'InvalidSignatureException',
  Expired: 'InvalidSignatureException',
  TimeTooSkewed: 'InvalidSignatureException',
  WrongScope: 'InvalidSignatureException',
};

/**
 * Puts a SigV4 check in front of dynalite's request handler: the body is read (DynamoDB's signature
 * covers its hash), the signature verified, and only then is the request replayed to dynalite. A refusal
 * is DynamoDB's JSON error shape (`__type` and `message`), with status 403 for every authentication
 * failure (DynamoDB itself uses 400 for these; the SDK reads the error type either way).
 */
function requireSignature(server: Server, credentials: LocalCredentials): void {
  const handlers = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    void readBody(req, MAX_REQUEST_BYTES)
      .then((body) => {
        if (body === undefined) {
          res.writeHead(413, { 'Content-Length': '0' }).end();
          return;
        }
        try {
          verifySigV4Request(incomingRequest(req), {
            credentials,
            service: 'dynamodb',
            region: LOCAL_REGION,
            bodySha256: sha256Hex(body),
          });
        } catch (error) {
          if (!(error instanceof SigV4Failure)) throw error;
          const type = DYNAMO_ERRORS[error.code] ?? 'IncompleteSignatureException';
          const message =
            error.code === 'InvalidAccessKeyId'
              ? 'The security token included in the request is invalid.'
              : error.code === 'MissingAuthentication'
                ? 'Request is missing Authentication Token'
                : error.message;
          const payload = JSON.stringify({ __type: `com.amazon.coral.service#${type}`, message });
          res.writeHead(403, {
            'Content-Type': 'application/x-amz-json-1.0',
            'Content-Length': String(Buffer.byteLength(payload)),
          });
          res.end(payload);
          return;
        }
        const replay = Object.assign(Readable.from(body.length > 0 ? [body] : []), {
          headers: req.headers,
          rawHeaders: req.rawHeaders,
          method: req.method,
          url: req.url,
          httpVersion: req.httpVersion,
          socket: req.socket,
        }) as unknown as IncomingMessage;
        for (const handler of handlers) handler(replay, res);
      })
      .catch(() => {
        // A broken connection, or a bug above: never an unhandled rejection in the runtime's process.
        if (!res.headersSent) res.writeHead(500, { 'Content-Length': '0' }).end();
        else res.destroy();
      });
  });
}
