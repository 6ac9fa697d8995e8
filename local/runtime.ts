import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { s3Client } from '#adapters/aws.ts';
import { sharedKysely } from '#adapters/db/connect.ts';
import { closeSharedConnection, explainDatabaseError } from '#adapters/db/connection.ts';
import { migrateToLatest } from '#adapters/db/migrate.ts';
import { putSigningKey } from '#adapters/edge-store.ts';
import { routeList } from '#api/routes.ts';
import type { PlaybackKey } from '#core/playback-token.ts';
import { playbackGateSource } from '#edge/playback-gate.ts';
import { consumerList, visibilityTimeoutSeconds } from '#events/consumers.ts';
import { scheduledWorkerList } from '#events/schedules.ts';
import { problemResult } from '#http/problem-details.ts';
import { zodFieldErrors } from '#http/validation.ts';
import { config, type EnvName } from '#shared/config.ts';
import { logger } from '#shared/logger.ts';
import {
  queueNameOf,
  queueNames,
  queueRefs,
  queueUrlVariable,
  uploadNotifications,
  uploadsBucketCors,
} from '#shared/resources.ts';
import { decodeS3Key } from '#shared/s3-keys.ts';
import { cdnEndpoint } from './cdn.ts';
import { loadViewerRequestFunction } from './cloudfront-function.ts';
import type { LocalConfig } from './config.ts';
import { lockDataDir } from './data-dir-lock.ts';
import { startLocalDynamo } from './dynamo.ts';
import { type ApiHandler, createGateway, type LocalEndpoint, send } from './gateway.ts';
import { invoke } from './invocations.ts';
import { startLocalKeyValueStore } from './kvs.ts';
import { lambdaContext } from './lambda-context.ts';
import { type LocalS3, startLocalS3 } from './s3.ts';
import { type LocalCredentials, localCredentials } from './sigv4.ts';
import { LocalQueues } from './sqs.ts';
import { LocalTokenIssuer, TokenRequest } from './token-issuer.ts';
import { webEndpoint } from './web.ts';

/** Variables the local runtime sets that Lambda itself provides (credentials) or Powertools reads. */
type LambdaVariable = 'AWS_ACCESS_KEY_ID' | 'AWS_SECRET_ACCESS_KEY' | 'POWERTOOLS_METRICS_DISABLED';

type QueueHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>;

/** Seconds between webhook attempts locally (the cloud's default waits 5 s, 5 min, 30 min, 2 h, 5 h, 10 h). */
export const LOCAL_WEBHOOK_RETRY_SCHEDULE = '2,5,10,30';

/** Names the local stand-ins use for what the CDK app creates. */
export const LOCAL_RESOURCES = {
  uploadsBucket: 'videocloud-uploads',
  mediaBucket: 'videocloud-media',
  stateTable: 'videocloud-state',
  edgeKvsArn: 'arn:aws:cloudfront::000000000000:key-value-store/5f0c1d2e-7a3b-4c5d-8e9f-0a1b2c3d4e5f',
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
  /** The key pair every stand-in (S3, DynamoDB, SQS) requires requests to be signed with. */
  credentials: LocalCredentials;
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
  // The workers' scratch space (what /tmp is to a Lambda) lives in the data dir, emptied at each start:
  // what a runtime killed mid-transcode left there is nobody's now (the lock says no runtime owns it).
  const scratch = join(dataDir, 'tmp');
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch);
  const previousTmpdir = process.env.TMPDIR;
  process.env.TMPDIR = scratch;
  stops.push(async () => {
    if (previousTmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previousTmpdir;
  });
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

    const credentials = localCredentials(join(dataDir, 'keys'));
    // The CDN's KeyValueStore, which the playback gate at /cdn/ reads (signing keys, revocations).
    const kvs = await startLocalKeyValueStore({
      file: join(dataDir, 'kvs.json'),
      arn: LOCAL_RESOURCES.edgeKvsArn,
      credentials,
    });
    stops.push(kvs.stop);
    const playbackKey = localPlaybackKey(join(dataDir, 'keys'));

    // Listen first, so a taken port fails before anything else starts and CORS rules know the origin.
    const endpoints: LocalEndpoint[] = [
      tokenEndpoint(issuer),
      cdnEndpoint({
        s3: s3Client,
        bucket: LOCAL_RESOURCES.mediaBucket,
        gate: loadViewerRequestFunction(playbackGateSource({ embedOrigins: local.EMBED_ORIGINS }), kvs.store),
        embedOrigins: local.EMBED_ORIGINS,
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
      accessLog: local.LOG_LEVEL === 'DEBUG' ? (line) => console.log(line) : undefined,
      allowedHosts: () => allowedHosts(boundPort, local.ALLOWED_HOSTS ?? []),
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
        const record = event.Records[0];
        if (record?.s3.bucket.name !== LOCAL_RESOURCES.uploadsBucket) return;
        // The uploads bucket's notifications, as the CDK app configures them (keys arrive encoded).
        const key = decodeS3Key(record.s3.object.key);
        const target = uploadNotifications.find((n) => key.startsWith(n.prefix) && key.endsWith(n.suffix));
        if (target) queues?.send(queueNames[target.queue], JSON.stringify(event));
      },
      directory: join(dataDir, 's3'),
      credentials,
      buckets: [
        { name: LOCAL_RESOURCES.uploadsBucket, cors: uploadsBucketCors(origins()) },
        { name: LOCAL_RESOURCES.mediaBucket },
      ],
    });
    stops.push(s3.stop);

    const dynamo = await startLocalDynamo({
      directory: join(dataDir, 'dynamodb'),
      tableName: LOCAL_RESOURCES.stateTable,
      credentials,
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
    // Stops run in reverse: the database closes after the queues, whose in-flight consumers still use it.
    stops.push(closeSharedConnection);
    const sqsEndpoint = await queues.start(credentials);
    stops.push(() => queues.stop());

    Object.assign(process.env, {
      VIDEOCLOUD_VERSION: version,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
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
      ...Object.fromEntries(queueRefs.map((ref) => [queueUrlVariable(ref), queues.url(queueNameOf(ref))])),
      // A developer points webhooks at a receiver on this machine; a demo retries within seconds.
      WEBHOOK_ALLOW_LOOPBACK_HTTP: 'true',
      WEBHOOK_RETRY_SCHEDULE: process.env.WEBHOOK_RETRY_SCHEDULE ?? LOCAL_WEBHOOK_RETRY_SCHEDULE,
      MEDIA_BASE_URL: `http://localhost:${boundPort}/cdn/`,
      PLAYBACK_KEY: JSON.stringify(playbackKey),
      EDGE_KVS_ARN: LOCAL_RESOURCES.edgeKvsArn,
      KVS_ENDPOINT: kvs.endpoint,
      CORS_ORIGINS: origins().join(','),
      LOG_LEVEL: local.LOG_LEVEL,
      // The EMF line is for CloudWatch's log pipeline; here each metric point is a debug log line.
      POWERTOOLS_METRICS_DISABLED: 'true',
    } satisfies Partial<Record<EnvName | LambdaVariable, string>>);
    if (local.DATABASE_URL) {
      process.env.DATABASE_URL = local.DATABASE_URL;
      delete process.env.PGLITE_DATA_DIR;
    } else {
      process.env.PGLITE_DATA_DIR = pgliteDataDir(dataDir);
      delete process.env.DATABASE_URL;
    }
    logger.setLogLevel(local.LOG_LEVEL);
    config(); // validate now: a bad variable stops the runtime with its name, before any request

    await migrateToLatest(await sharedKysely()).catch((error: unknown) => {
      throw local.DATABASE_URL ? explainDatabaseError(error, local.DATABASE_URL) : error;
    });
    // What the deploy-time custom resource does in the cloud: the gate learns the signing key.
    await putSigningKey(playbackKey.kid, playbackKey.secret);

    // Event source mappings: each queue drained by the same handler its Lambda runs.
    for (const consumer of consumerList) {
      const module = (await import(`../lambdas/events/${consumer.entry}.ts`)) as { handler: QueueHandler };
      queues.consume(
        consumer.queue,
        (event) =>
          invoke(consumer.entry, () =>
            module.handler(event, lambdaContext(consumer.entry, consumer.timeoutSeconds * 1000)),
          ),
        {
          batchSize: consumer.batchSize,
          // A fan-out queue (chunk jobs) gets one worker per core here, as N Lambdas take it in the cloud.
          // Not under QUEUE_VISIBILITY_SECONDS (tests): it caps the heartbeat's lease below a transcode's
          // length, so every message comes back while it is worked on, and a second worker would encode the
          // same video again at once (harmless, as a duplicate delivery is, but twice the work).
          workers:
            'fanOut' in consumer && consumer.fanOut && local.QUEUE_VISIBILITY_SECONDS === undefined
              ? availableParallelism()
              : 1,
        },
      );
    }
    // Schedules: each scheduled worker on a timer at its cloud rate (unref'd: never keeps the process up).
    for (const worker of scheduledWorkerList) {
      const module = (await import(`../lambdas/events/${worker.entry}.ts`)) as {
        handler: () => Promise<unknown>;
      };
      const timer = setInterval(() => {
        invoke(worker.entry, () =>
          module.handler().catch((error: unknown) => logger.error(`${worker.entry} failed`, { error })),
        );
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
      credentials,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** Where the runtime keeps its PGlite database inside a data dir (without DATABASE_URL). */
export function pgliteDataDir(dataDir: string): string {
  return join(resolve(dataDir), 'postgres');
}

/** The playback signing key, made on first start and kept in the data dir (like the cloud's secret). */
function localPlaybackKey(keyDir: string): PlaybackKey {
  const file = join(keyDir, 'playback-key.json');
  if (!existsSync(file)) {
    mkdirSync(keyDir, { recursive: true });
    const key: PlaybackKey = { kid: 'local1', secret: randomBytes(32).toString('base64url') };
    writeFileSync(file, JSON.stringify(key), { mode: 0o600 });
  }
  return JSON.parse(readFileSync(file, 'utf8')) as PlaybackKey;
}

/**
 * The Host values the gateway answers: the loopback names with its port (bare too on port 80), and each
 * configured name as given, or with the port when given without one (a proxy in front may send either).
 */
function allowedHosts(port: number, configured: string[]): string[] {
  const withPort = (name: string) => (port === 80 ? [name, `${name}:80`] : [`${name}:${port}`]);
  return [
    ...['localhost', '127.0.0.1', '[::1]'].flatMap(withPort),
    ...configured.flatMap((name) => (/:\d+$/.test(name) ? [name] : [name, `${name}:${port}`])),
  ];
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
