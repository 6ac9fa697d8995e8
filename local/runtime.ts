import { mkdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { s3Client } from '#adapters/aws.ts';
import { closeSharedDb } from '#adapters/db/connect.ts';
import { db } from '#adapters/db/index.ts';
import { migrateToLatest } from '#adapters/db/migrate.ts';
import { routeList } from '#api/routes.ts';
import { consumerList, visibilityTimeoutSeconds } from '#events/consumers.ts';
import { scheduledWorkerList } from '#events/schedules.ts';
import { config } from '#shared/config.ts';
import { problemResult, zodFieldErrors } from '#shared/http.ts';
import { logger } from '#shared/logger.ts';
import { queueNames, uploadsBucketCors } from '#shared/resources.ts';
import { cdnEndpoint } from './cdn.ts';
import type { LocalConfig } from './config.ts';
import { lockDataDir } from './data-dir-lock.ts';
import { startLocalDynamo } from './dynamo.ts';
import { type ApiHandler, createGateway, type LocalEndpoint, send } from './gateway.ts';
import { lambdaContext } from './lambda-context.ts';
import { LOCAL_S3_CREDENTIALS, type LocalS3, startLocalS3 } from './s3.ts';
import { LocalQueues } from './sqs.ts';
import { LocalTokenIssuer, localKeyPair, TokenRequest } from './token-issuer.ts';
import { webEndpoint } from './web.ts';

type QueueHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>;

const LOCAL_CDN_KEY_ID = 'K2LOCALVIDEOCLOUD';

/** Names the local stand-ins use for what the CDK app creates. */
export const LOCAL_RESOURCES = {
  uploadsBucket: 'videocloud-uploads',
  mediaBucket: 'videocloud-media',
  stateTable: 'videocloud-state',
  userPoolId: 'us-east-1_local',
  clientId: 'videocloud-local-web',
  scopePrefix: 'videocloud/',
} as const;

export interface LocalRuntime {
  url: string;
  port: number;
  issuer: LocalTokenIssuer;
  queues: LocalQueues;
  s3: LocalS3;
  stop(): Promise<void>;
}

const version = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/**
 * Boots every local stand-in, points the Lambda-side config at them, migrates the database and serves
 * the API. Used by `npm start` and by the integration tests, so both run exactly the same stack.
 */
export async function startLocalRuntime(local: LocalConfig): Promise<LocalRuntime> {
  const dataDir = resolve(local.VIDEOCLOUD_DATA_DIR);
  mkdirSync(dataDir, { recursive: true });
  // Before anything opens a file in it: a second runtime on this dir stops here, with the owner's pid.
  const lock = lockDataDir(dataDir);
  const stops: Array<() => Promise<void>> = [async () => lock.release()];
  // Until the handlers' environment is wired, the gateway answers 503 and loads no handler.
  let ready = false;
  // The port goes first, so nothing new comes in (and nothing answers on it) while the rest stops.
  let closeGateway: (() => Promise<void>) | undefined;
  const stopAll = async () => {
    await closeGateway?.();
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };

  try {
    // The browser origins allowed to call the API and PUT to storage: this runtime's own, plus any extra.
    const origins = () => [...selfOrigins(boundPort), ...local.WEB_ORIGINS];
    let boundPort = local.PORT;

    const issuer = new LocalTokenIssuer({
      keyDir: join(dataDir, 'keys'),
      userPoolId: LOCAL_RESOURCES.userPoolId,
      clientId: LOCAL_RESOURCES.clientId,
      region: 'us-east-1',
      scopePrefix: LOCAL_RESOURCES.scopePrefix,
    });

    // Listen first, so a taken port fails before anything else starts and CORS rules know the origin.
    const cdnKey = localKeyPair(join(dataDir, 'keys'), 'cdn-signing-key.pem');
    const endpoints: LocalEndpoint[] = [
      tokenEndpoint(issuer),
      cdnEndpoint({
        s3: s3Client,
        bucket: LOCAL_RESOURCES.mediaBucket,
        keyPairId: LOCAL_CDN_KEY_ID,
        publicKeyPem: cdnKey.publicKeyPem,
      }),
      webEndpoint(), // last: the browser client takes every GET the API, docs and CDN do not
    ];
    const server = createGateway({
      routes: routeList,
      loadHandler: async (entry) =>
        ((await import(`../lambdas/api/${entry}.ts`)) as { handler: ApiHandler }).handler,
      corsOrigins: () => config().corsOrigins,
      endpoints,
      ready: () => ready,
      accessLog:
        local.LOG_LEVEL === 'DEBUG' || local.LOG_LEVEL === 'INFO' ? (line) => console.log(line) : undefined,
    });
    await new Promise<void>((resolveListen, reject) => {
      server.once('error', reject);
      server.listen(local.PORT, local.HOST, () => resolveListen());
    });
    boundPort = (server.address() as AddressInfo).port;
    closeGateway = () =>
      new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections();
      });

    // S3 -> SQS, as the uploads bucket's notification does in the cloud (queues start just below).
    let queues: LocalQueues | undefined;
    const s3 = await startLocalS3({
      onObjectCreated: (event) => {
        if (event.Records[0]?.s3.bucket.name === LOCAL_RESOURCES.uploadsBucket) {
          queues?.send(queueNames.ingest, JSON.stringify(event));
        }
      },
      directory: join(dataDir, 's3'),
      buckets: [
        { name: LOCAL_RESOURCES.uploadsBucket, cors: uploadsBucketCors(origins()) },
        { name: LOCAL_RESOURCES.mediaBucket },
      ],
    });
    stops.push(s3.stop);

    const dynamo = await startLocalDynamo({
      directory: join(dataDir, 'dynamodb'),
      tableName: LOCAL_RESOURCES.stateTable,
    });
    stops.push(dynamo.stop);

    queues = new LocalQueues(
      join(dataDir, 'queues.json'),
      Object.values(queueNames).map((name) => {
        const consumer = consumerList.find((c) => c.queue === name);
        return {
          name,
          visibilityTimeoutSeconds:
            local.QUEUE_VISIBILITY_SECONDS ?? (consumer ? visibilityTimeoutSeconds(consumer) : 30),
          maxVisibilitySeconds: local.QUEUE_VISIBILITY_SECONDS,
          maxReceiveCount: consumer?.maxReceiveCount ?? 5,
        };
      }),
    );
    const sqsEndpoint = await queues.start();
    stops.push(() => queues.stop());

    Object.assign(process.env, {
      VIDEOCLOUD_VERSION: version,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
      UPLOADS_BUCKET: LOCAL_RESOURCES.uploadsBucket,
      MEDIA_BUCKET: LOCAL_RESOURCES.mediaBucket,
      STATE_TABLE: LOCAL_RESOURCES.stateTable,
      S3_ENDPOINT: s3.endpoint,
      DYNAMODB_ENDPOINT: dynamo.endpoint,
      COGNITO_USER_POOL_ID: LOCAL_RESOURCES.userPoolId,
      COGNITO_CLIENT_ID: LOCAL_RESOURCES.clientId,
      COGNITO_JWKS: JSON.stringify(issuer.jwks()),
      API_SCOPE_PREFIX: LOCAL_RESOURCES.scopePrefix,
      SQS_ENDPOINT: sqsEndpoint,
      CLEANUP_QUEUE_URL: queues.url(queueNames.cleanup),
      INGEST_QUEUE_URL: queues.url(queueNames.ingest),
      TRANSCODE_QUEUE_URL: queues.url(queueNames.transcode),
      MEDIA_BASE_URL: `http://localhost:${boundPort}/cdn/`,
      CDN_KEY_PAIR_ID: LOCAL_CDN_KEY_ID,
      CDN_PRIVATE_KEY_PEM: cdnKey.privateKeyPem,
      CORS_ORIGINS: origins().join(','),
      LOG_LEVEL: local.LOG_LEVEL,
    });
    if (local.DATABASE_URL) {
      process.env.DATABASE_URL = local.DATABASE_URL;
      delete process.env.PGLITE_DATA_DIR;
    } else {
      process.env.PGLITE_DATA_DIR = join(dataDir, 'postgres');
      delete process.env.DATABASE_URL;
    }
    logger.setLogLevel(local.LOG_LEVEL);
    config(); // validate now: a bad variable stops the runtime with its name, before any request

    stops.push(closeSharedDb);
    await migrateToLatest(await db());

    // Event source mappings: each queue drained by the same handler its Lambda runs.
    for (const consumer of consumerList) {
      const module = (await import(`../lambdas/events/${consumer.entry}.ts`)) as { handler: QueueHandler };
      queues.consume(
        consumer.queue,
        (event) => module.handler(event, lambdaContext(consumer.entry, consumer.timeoutSeconds * 1000)),
        { batchSize: consumer.batchSize },
      );
    }
    // Schedules: each scheduled worker on a timer at its cloud rate (unref'd: never keeps the process up).
    for (const worker of scheduledWorkerList) {
      const module = (await import(`../lambdas/events/${worker.entry}.ts`)) as {
        handler: () => Promise<unknown>;
      };
      const timer = setInterval(() => {
        module.handler().catch((error: unknown) => logger.error(`${worker.entry} failed`, { error }));
      }, worker.everyMinutes * 60_000);
      timer.unref();
      stops.push(async () => clearInterval(timer));
    }
    ready = true;

    return {
      url: `http://localhost:${boundPort}`,
      port: boundPort,
      issuer,
      queues,
      s3,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

function selfOrigins(port: number): string[] {
  return [`http://localhost:${port}`, `http://127.0.0.1:${port}`];
}

/** `POST /local/token`: mints a local access token (local runtime only; the CDK app has no such route). */
function tokenEndpoint(issuer: LocalTokenIssuer): LocalEndpoint {
  return async (req, res, url, body) => {
    if (url.pathname !== '/local/token') return false;
    const headers = { 'X-Request-Id': crypto.randomUUID(), 'Cache-Control': 'no-store' };
    if (req.method !== 'POST') {
      send(
        res,
        problemResult(405, 'Method not allowed', 'Use POST', '/problems/method-not-allowed', {
          headers: { ...headers, Allow: 'POST' },
        }),
      );
      return true;
    }
    let input: unknown;
    try {
      input = JSON.parse(body.toString('utf8') || '{}');
    } catch {
      send(
        res,
        problemResult(
          400,
          'Invalid request',
          'The request body is not valid JSON',
          '/problems/invalid-request',
          { headers },
        ),
      );
      return true;
    }
    const parsed = TokenRequest.safeParse(input);
    if (!parsed.success) {
      send(
        res,
        problemResult(400, 'Invalid request', 'The token request is invalid', '/problems/invalid-request', {
          errors: zodFieldErrors(parsed.error, 'body'),
          headers,
        }),
      );
      return true;
    }
    send(res, {
      statusCode: 200,
      headers: { ...headers, 'Content-Type': 'application/json' },
      body: JSON.stringify(issuer.mint(parsed.data)),
    });
    return true;
  };
}
