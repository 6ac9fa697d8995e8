import {
  DEFAULT_AUDIO_CHUNK_SECONDS,
  DEFAULT_CHUNK_SECONDS,
  DEFAULT_MAX_CHUNKS,
  DEFAULT_RUNG_GROUPS,
} from '#core/media/chunks.ts';
import { booleanFlag, commaList, parseEnv } from './env.ts';
import { type QueueRef, type QueueUrlVariable, queueRefs, queueUrlVariable } from './resources.ts';
import * as z from './zod.ts';

// Parts fields share: a zod schema is immutable, so alike fields use one, built once, not one each (every
// API function builds this schema at cold start; sharing took 1.2-1.8 ms off its 11 ms).
const nonEmpty = z.string().check(z.minLength(1));
const resourceName = z.string().check(z.minLength(3)); // a bucket or table name
const optionalUrl = z.optional(z.url());
const optionalNonEmpty = z.optional(nonEmpty);
const optionalArn = z.optional(z.string().check(z.startsWith('arn:')));
const positiveInt = z.coerce.number().check(z.int(), z.positive());
const positive = z.coerce.number().check(z.positive());
const atLeastOne = z.coerce.number().check(z.int(), z.gte(1));

/** A byte count, or `unlimited`. */
const byteLimit = (fallback: number | 'unlimited') =>
  z._default(z.union([z.literal('unlimited'), positiveInt]), fallback);
const orNull = (limit: number | 'unlimited') => (limit === 'unlimited' ? null : limit);

/**
 * Which ffmpeg/ffprobe binaries run (lambdas/adapters/ffmpeg/binaries.ts): a path each, else the Lambda layer's
 * /opt/bin, PATH, and the npm static builds, in that order. Parsed on its own as well (`mediaToolsConfig`),
 * so tools and tests that only run ffmpeg need no other variable.
 */
const mediaToolsSchema = z.object({
  FFMPEG_PATH: optionalNonEmpty,
  FFPROBE_PATH: optionalNonEmpty,
});

/** Queue URLs (`INGEST_QUEUE_URL`, ...), each set on the functions that send to that queue. */
const queueUrlShape = Object.fromEntries(queueRefs.map((ref) => [queueUrlVariable(ref), optionalUrl])) as {
  [Variable in QueueUrlVariable]: z.ZodMiniOptional<z.ZodMiniURL>;
};

/**
 * The Lambda-side configuration: every variable a handler may read, validated once per container.
 * The CDK app sets these on each function; the local runtime sets them on its own process before it
 * loads the handlers, pointing them at the local stand-ins. Which database adapter runs is decided here
 * by which variables are present, never by an "am I local?" branch in a handler.
 */
const schema = z
  .object({
    ...mediaToolsSchema.shape,
    VIDEOCLOUD_VERSION: z._default(nonEmpty, '0.0.0-dev'),
    /** The deployment's stage name; tags MediaConvert jobs so each stage only settles its own. */
    VIDEOCLOUD_STAGE: z._default(nonEmpty, 'local'),
    AWS_REGION: z._default(nonEmpty, 'us-east-1'),

    // Database: at most one of these three, and exactly one where a function opens the database
    // (adapters/db/index.ts): code that never does (presigning, say) needs none.
    DATABASE_URL: z.optional(z.url({ protocol: /^postgres(ql)?$/ })),
    DB_PROXY_HOST: optionalNonEmpty,
    DB_PORT: z._default(positiveInt, 5432),
    DB_NAME: z._default(nonEmpty, 'videocloud'),
    DB_USER: z._default(nonEmpty, 'videocloud_app'),
    PGLITE_DATA_DIR: optionalNonEmpty,

    UPLOADS_BUCKET: resourceName,
    MEDIA_BUCKET: resourceName,
    STATE_TABLE: resourceName,
    /** Set only to reach S3/DynamoDB stand-ins; empty in the cloud. */
    S3_ENDPOINT: optionalUrl,
    DYNAMODB_ENDPOINT: optionalUrl,

    /** Access tokens are verified against this Cognito user pool and app client. */
    COGNITO_USER_POOL_ID: z
      .string()
      .check(z.regex(/^[a-z]{2}(-[a-z]+)+-\d+_\w+$/, 'expected a user pool id like eu-west-1_AbC123')),
    COGNITO_CLIENT_ID: nonEmpty,
    /** A JWKS given inline (the local token issuer's); when set, keys are never fetched. */
    COGNITO_JWKS: z.optional(z.string()),
    /** Cognito prefixes resource-server scopes with the server's identifier: `videocloud/videos:read`. */
    API_SCOPE_PREFIX: z._default(z.string(), 'videocloud/'),
    /**
     * How long a container keeps a valid API key's lookup (lambdas/adapters/api-key-cache.ts): a key
     * revoked elsewhere can work for up to this long. 0: looked up on every request.
     */
    API_KEY_CACHE_SECONDS: z._default(z.coerce.number().check(z.int(), z.gte(0), z.lte(60)), 5),

    ...queueUrlShape,
    SQS_ENDPOINT: optionalUrl,
    /** Set only to reach a Secrets Manager stand-in (tests); empty in the cloud. */
    SECRETS_MANAGER_ENDPOINT: optionalUrl,
    /**
     * How long a worker holds a message at a time while it works (lambdas/adapters/heartbeat.ts), instead
     * of the consumer's own lease in lambdas/events/consumers.ts. Local runs and tests shorten it.
     */
    QUEUE_LEASE_SECONDS: z.optional(z.coerce.number().check(z.positive(), z.lte(43_200))),

    /** Where playback URLs point: the CloudFront distribution (the local runtime's /cdn/ in dev). */
    MEDIA_BASE_URL: optionalUrl,
    /**
     * The key playback tokens are signed with, `{"kid","secret"}`: inline (local runtime) or the ARN of
     * the secret holding it (cloud; made at deploy time, also written to the CDN's KeyValueStore).
     */
    PLAYBACK_KEY: z.optional(z.string()),
    PLAYBACK_KEY_SECRET_ARN: optionalArn,
    /** How long a private video's playback URLs work (public and unlisted ones do not expire). */
    PRIVATE_PLAYBACK_SECONDS: z._default(
      z.coerce.number().check(z.int(), z.gte(1), z.lte(7 * 24 * 3600)),
      3600,
    ),
    /** The CDN's KeyValueStore (revocations, signing keys); KVS_ENDPOINT only to reach the local stand-in. */
    EDGE_KVS_ARN: optionalArn,
    KVS_ENDPOINT: optionalUrl,

    /**
     * Transcoding. Sources up to FFMPEG_MAX_SECONDS go to the ffmpeg Lambda; longer ones to MediaConvert
     * when MEDIACONVERT_ROLE_ARN is set (without it, as locally, ffmpeg takes every length).
     * MAX_SOURCE_SECONDS refuses anything longer outright.
     */
    FFMPEG_MAX_SECONDS: z._default(positiveInt, 4 * 3600),
    /**
     * Chunked transcoding (core/media/chunks.ts): a source longer than one chunk is split into chunks of
     * about TRANSCODE_CHUNK_SECONDS (whole 4 s segments), each its own job on the transcode queue, never
     * more than TRANSCODE_MAX_CHUNKS of them (chunks grow instead). Audio is chunked too, in chunks of
     * about TRANSCODE_AUDIO_CHUNK_SECONDS (whole video chunks: AAC encodes far faster than the ladder).
     * Each video chunk is TRANSCODE_RUNG_GROUPS jobs, each encoding a group of rungs of about equal cost.
     */
    TRANSCODE_CHUNK_SECONDS: z._default(
      z.coerce.number().check(z.positive(), z.lte(3600)),
      DEFAULT_CHUNK_SECONDS,
    ),
    TRANSCODE_AUDIO_CHUNK_SECONDS: z._default(
      z.coerce.number().check(z.positive(), z.lte(4 * 3600)),
      DEFAULT_AUDIO_CHUNK_SECONDS,
    ),
    TRANSCODE_MAX_CHUNKS: z._default(
      z.coerce.number().check(z.int(), z.gte(1), z.lte(1000)),
      DEFAULT_MAX_CHUNKS,
    ),
    TRANSCODE_RUNG_GROUPS: z._default(
      z.coerce.number().check(z.int(), z.gte(1), z.lte(8)),
      DEFAULT_RUNG_GROUPS,
    ),
    MAX_SOURCE_SECONDS: z._default(positiveInt, 4 * 3600),
    MEDIACONVERT_ROLE_ARN: optionalArn,
    MEDIACONVERT_QUEUE_ARN: optionalArn,

    /** Upload limits: the largest accepted file, how long a session lives, how long a part URL works. */
    MAX_UPLOAD_BYTES: z._default(positiveInt, 20 * 1024 ** 3),
    UPLOAD_SESSION_SECONDS: z._default(z.coerce.number().check(z.int(), z.gte(60)), 24 * 3600),
    PART_URL_SECONDS: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(7 * 24 * 3600)), 3600),
    /**
     * Stored bytes per user (declared sizes of open uploads plus the sources of videos not deleted), or
     * `unlimited`; admins have their own limit, unlimited unless set.
     */
    STORAGE_QUOTA_BYTES: byteLimit(100 * 1024 ** 3),
    ADMIN_STORAGE_QUOTA_BYTES: byteLimit('unlimited'),

    /**
     * Per-caller token buckets (user, API key, or client IP when anonymous): reads, other writes, and
     * upload creation each have their own. RATE_LIMITS=off disables them (never in a deployed stage).
     */
    RATE_LIMITS: z._default(z.enum(['on', 'off']), 'on'),
    READ_RATE_PER_MINUTE: z._default(positive, 600),
    READ_BURST: z._default(atLeastOne, 200),
    WRITE_RATE_PER_MINUTE: z._default(positive, 60),
    WRITE_BURST: z._default(atLeastOne, 30),
    UPLOAD_RATE_PER_MINUTE: z._default(positive, 2),
    UPLOAD_BURST: z._default(atLeastOne, 20),

    /** Which malware scanner checks uploaded sources: none (logs "not scanned"), clamav, or guardduty. */
    MALWARE_SCANNER: z._default(z.enum(['none', 'clamav', 'guardduty']), 'none'),
    /** clamav: the scanner command (clamscan, or clamdscan with a running clamd) and an optional database dir. */
    CLAMAV_COMMAND: z._default(nonEmpty, 'clamscan'),
    CLAMAV_DATABASE: optionalNonEmpty,

    /**
     * Webhooks. WEBHOOK_RETRY_SCHEDULE: seconds to wait before each retry of a failed delivery (a
     * delivery gets one attempt more than the schedule has entries, then it is failed). An endpoint whose
     * every delivery failed for WEBHOOK_DISABLE_AFTER_DAYS is disabled (0: never).
     * WEBHOOK_ALLOW_LOOPBACK_HTTP: the local runtime's exception, http:// and https:// to loopback
     * addresses; never set in the cloud. EVENT_BUS_NAME: the stage's EventBridge bus (cloud only).
     */
    WEBHOOK_RETRY_SCHEDULE: z.pipe(
      z._default(z.string(), '5,300,1800,7200,18000,36000'),
      z.transform((value: string, ctx) => {
        const seconds = value.split(',').map((item) => Number(item.trim()));
        if (seconds.length > 20 || seconds.some((n) => !Number.isInteger(n) || n < 0 || n > 86_400)) {
          ctx.issues.push({
            code: 'custom',
            message: 'expected up to 20 whole seconds 0..86400, comma separated',
            input: value,
          });
          return z.NEVER;
        }
        return seconds;
      }),
    ),
    WEBHOOK_DISABLE_AFTER_DAYS: z._default(z.coerce.number().check(z.gte(0), z.lte(365)), 5),
    WEBHOOK_ALLOW_LOOPBACK_HTTP: booleanFlag,
    EVENT_BUS_NAME: z.optional(z.string().check(z.minLength(1), z.maxLength(256))),

    CORS_ORIGINS: commaList,
    LOG_LEVEL: z._default(z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']), 'INFO'),
    POWERTOOLS_DEV: booleanFlag,
  })
  .check(
    z.superRefine((env, ctx) => {
      const sources = [env.DATABASE_URL, env.DB_PROXY_HOST, env.PGLITE_DATA_DIR].filter(Boolean).length;
      if (sources > 1) {
        ctx.addIssue({
          code: 'custom',
          path: ['DATABASE_URL'],
          message: `set only one of DATABASE_URL, DB_PROXY_HOST or PGLITE_DATA_DIR (found ${sources})`,
        });
      }
    }),
  );

export type DatabaseSource =
  | { kind: 'url'; url: string }
  | { kind: 'rds-proxy'; host: string; port: number; database: string; user: string; region: string }
  | { kind: 'pglite'; dataDir: string };

export function loadConfig(env: Record<string, string | undefined> = process.env) {
  const parsed = parseEnv(schema, env, 'VideoCloud');
  /** Undefined when none is configured; the database adapter refuses to open then. */
  const database: DatabaseSource | undefined = parsed.DATABASE_URL
    ? { kind: 'url', url: parsed.DATABASE_URL }
    : parsed.DB_PROXY_HOST
      ? {
          kind: 'rds-proxy',
          host: parsed.DB_PROXY_HOST,
          port: parsed.DB_PORT,
          database: parsed.DB_NAME,
          user: parsed.DB_USER,
          region: parsed.AWS_REGION,
        }
      : parsed.PGLITE_DATA_DIR
        ? { kind: 'pglite', dataDir: parsed.PGLITE_DATA_DIR }
        : undefined;
  return {
    version: parsed.VIDEOCLOUD_VERSION,
    stage: parsed.VIDEOCLOUD_STAGE,
    region: parsed.AWS_REGION,
    database,
    uploadsBucket: parsed.UPLOADS_BUCKET,
    mediaBucket: parsed.MEDIA_BUCKET,
    stateTable: parsed.STATE_TABLE,
    s3Endpoint: parsed.S3_ENDPOINT,
    dynamodbEndpoint: parsed.DYNAMODB_ENDPOINT,
    auth: {
      userPoolId: parsed.COGNITO_USER_POOL_ID,
      clientId: parsed.COGNITO_CLIENT_ID,
      inlineJwks: parsed.COGNITO_JWKS,
      scopePrefix: parsed.API_SCOPE_PREFIX,
      apiKeyCacheSeconds: parsed.API_KEY_CACHE_SECONDS,
    },
    queues: Object.fromEntries(queueRefs.map((ref) => [ref, parsed[queueUrlVariable(ref)]])) as Record<
      QueueRef,
      string | undefined
    >,
    sqsEndpoint: parsed.SQS_ENDPOINT,
    secretsManagerEndpoint: parsed.SECRETS_MANAGER_ENDPOINT,
    queueLeaseSeconds: parsed.QUEUE_LEASE_SECONDS,
    mediaBaseUrl: parsed.MEDIA_BASE_URL,
    playback: {
      inlineKey: parsed.PLAYBACK_KEY,
      keySecretArn: parsed.PLAYBACK_KEY_SECRET_ARN,
      privateUrlSeconds: parsed.PRIVATE_PLAYBACK_SECONDS,
    },
    edge: { kvsArn: parsed.EDGE_KVS_ARN, kvsEndpoint: parsed.KVS_ENDPOINT },
    uploads: {
      maxBytes: parsed.MAX_UPLOAD_BYTES,
      sessionSeconds: parsed.UPLOAD_SESSION_SECONDS,
      partUrlSeconds: parsed.PART_URL_SECONDS,
      quotaBytes: orNull(parsed.STORAGE_QUOTA_BYTES),
      adminQuotaBytes: orNull(parsed.ADMIN_STORAGE_QUOTA_BYTES),
    },
    transcoding: {
      ffmpegMaxSeconds: parsed.FFMPEG_MAX_SECONDS,
      chunkSeconds: parsed.TRANSCODE_CHUNK_SECONDS,
      audioChunkSeconds: parsed.TRANSCODE_AUDIO_CHUNK_SECONDS,
      maxChunks: parsed.TRANSCODE_MAX_CHUNKS,
      rungGroups: parsed.TRANSCODE_RUNG_GROUPS,
      maxSourceSeconds: parsed.MAX_SOURCE_SECONDS,
      mediaConvertRoleArn: parsed.MEDIACONVERT_ROLE_ARN,
      mediaConvertQueueArn: parsed.MEDIACONVERT_QUEUE_ARN,
    },
    rateLimits: {
      enabled: parsed.RATE_LIMITS === 'on',
      read: { capacity: parsed.READ_BURST, refillPerSecond: parsed.READ_RATE_PER_MINUTE / 60 },
      write: { capacity: parsed.WRITE_BURST, refillPerSecond: parsed.WRITE_RATE_PER_MINUTE / 60 },
      upload: { capacity: parsed.UPLOAD_BURST, refillPerSecond: parsed.UPLOAD_RATE_PER_MINUTE / 60 },
    },
    malware: {
      scanner: parsed.MALWARE_SCANNER,
      clamavCommand: parsed.CLAMAV_COMMAND,
      clamavDatabase: parsed.CLAMAV_DATABASE,
    },
    webhooks: {
      retrySchedule: parsed.WEBHOOK_RETRY_SCHEDULE,
      disableAfterDays: parsed.WEBHOOK_DISABLE_AFTER_DAYS,
      allowLoopbackHttp: parsed.WEBHOOK_ALLOW_LOOPBACK_HTTP,
    },
    eventBusName: parsed.EVENT_BUS_NAME,
    corsOrigins: parsed.CORS_ORIGINS,
    logLevel: parsed.LOG_LEVEL,
  };
}

export type Config = ReturnType<typeof loadConfig>;

/** Every variable the configuration reads: the names CDK and the local runtime may set, type-checked. */
export type EnvName = keyof z.input<typeof schema>;

export function mediaToolsConfig(env: Record<string, string | undefined> = process.env) {
  const parsed = parseEnv(mediaToolsSchema, env, 'ffmpeg');
  return { ffmpegPath: parsed.FFMPEG_PATH, ffprobePath: parsed.FFPROBE_PATH };
}

let cached: Config | undefined;
/** The process-wide config, parsed on first use (at cold start in Lambda). */
export function config(): Config {
  cached ??= loadConfig();
  return cached;
}
