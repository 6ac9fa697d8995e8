import { z } from 'zod';
import { booleanFlag, commaList, parseEnv } from './env.ts';

/**
 * The Lambda-side configuration: every variable a handler may read, validated once per container.
 * The CDK app sets these on each function; the local runtime sets them on its own process before it
 * loads the handlers, pointing them at the local stand-ins. Which database adapter runs is decided here
 * by which variables are present, never by an "am I local?" branch in a handler.
 */
const schema = z
  .object({
    VIDEOCLOUD_VERSION: z.string().min(1).default('0.0.0-dev'),
    AWS_REGION: z.string().min(1).default('us-east-1'),

    // Database: exactly one of these three is used (see `database` below).
    DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
    DB_PROXY_HOST: z.string().min(1).optional(),
    DB_PORT: z.coerce.number().int().positive().default(5432),
    DB_NAME: z.string().min(1).default('videocloud'),
    DB_USER: z.string().min(1).default('videocloud_app'),
    PGLITE_DATA_DIR: z.string().min(1).optional(),

    UPLOADS_BUCKET: z.string().min(3),
    MEDIA_BUCKET: z.string().min(3),
    STATE_TABLE: z.string().min(3),
    /** Set only to reach S3/DynamoDB stand-ins; empty in the cloud. */
    S3_ENDPOINT: z.url().optional(),
    DYNAMODB_ENDPOINT: z.url().optional(),

    /** Access tokens are verified against this Cognito user pool and app client. */
    COGNITO_USER_POOL_ID: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d+_\w+$/, 'expected a user pool id like eu-west-1_AbC123'),
    COGNITO_CLIENT_ID: z.string().min(1),
    /** A JWKS given inline (the local token issuer's); when set, keys are never fetched. */
    COGNITO_JWKS: z.string().optional(),
    /** Cognito prefixes resource-server scopes with the server's identifier: `videocloud/videos:read`. */
    API_SCOPE_PREFIX: z.string().default('videocloud/'),

    /** Queue URLs, set on the functions that send to them. */
    INGEST_QUEUE_URL: z.url().optional(),
    CLEANUP_QUEUE_URL: z.url().optional(),
    TRANSCODE_QUEUE_URL: z.url().optional(),
    SQS_ENDPOINT: z.url().optional(),

    /** Where playback URLs point: the CloudFront distribution (the local runtime's /cdn in dev). */
    MEDIA_BASE_URL: z.url().optional(),
    /** CloudFront key group key id, and the private key: inline PEM (local) or a secret's ARN (cloud). */
    CDN_KEY_PAIR_ID: z.string().min(1).default('unset'),
    CDN_PRIVATE_KEY_PEM: z.string().optional(),
    CDN_PRIVATE_KEY_SECRET_ARN: z.string().optional(),
    PRIVATE_PLAYBACK_SECONDS: z.coerce.number().int().min(60).default(3600),
    PUBLIC_PLAYBACK_SECONDS: z.coerce
      .number()
      .int()
      .min(60)
      .default(24 * 3600),

    /** Upload limits: the largest accepted file, how long a session lives, how long a part URL works. */
    MAX_UPLOAD_BYTES: z.coerce
      .number()
      .int()
      .positive()
      .default(20 * 1024 ** 3),
    UPLOAD_SESSION_SECONDS: z.coerce
      .number()
      .int()
      .min(60)
      .default(24 * 3600),
    PART_URL_SECONDS: z.coerce
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 3600)
      .default(3600),

    CORS_ORIGINS: commaList,
    LOG_LEVEL: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
    POWERTOOLS_DEV: booleanFlag,
  })
  .superRefine((env, ctx) => {
    const sources = [env.DATABASE_URL, env.DB_PROXY_HOST, env.PGLITE_DATA_DIR].filter(Boolean).length;
    if (sources !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['DATABASE_URL'],
        message: `set exactly one of DATABASE_URL, DB_PROXY_HOST or PGLITE_DATA_DIR (found ${sources})`,
      });
    }
  });

export type DatabaseSource =
  | { kind: 'url'; url: string }
  | { kind: 'rds-proxy'; host: string; port: number; database: string; user: string; region: string }
  | { kind: 'pglite'; dataDir: string };

export function loadConfig(env: Record<string, string | undefined> = process.env) {
  const parsed = parseEnv(schema, env, 'VideoCloud');
  const database: DatabaseSource = parsed.DATABASE_URL
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
      : { kind: 'pglite', dataDir: parsed.PGLITE_DATA_DIR! };
  return {
    version: parsed.VIDEOCLOUD_VERSION,
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
    },
    queues: {
      ingest: parsed.INGEST_QUEUE_URL,
      cleanup: parsed.CLEANUP_QUEUE_URL,
      transcode: parsed.TRANSCODE_QUEUE_URL,
    },
    sqsEndpoint: parsed.SQS_ENDPOINT,
    mediaBaseUrl: parsed.MEDIA_BASE_URL,
    cdn: {
      keyPairId: parsed.CDN_KEY_PAIR_ID,
      privateKeyPem: parsed.CDN_PRIVATE_KEY_PEM,
      privateKeySecretArn: parsed.CDN_PRIVATE_KEY_SECRET_ARN,
      privateUrlSeconds: parsed.PRIVATE_PLAYBACK_SECONDS,
      publicUrlSeconds: parsed.PUBLIC_PLAYBACK_SECONDS,
    },
    uploads: {
      maxBytes: parsed.MAX_UPLOAD_BYTES,
      sessionSeconds: parsed.UPLOAD_SESSION_SECONDS,
      partUrlSeconds: parsed.PART_URL_SECONDS,
    },
    corsOrigins: parsed.CORS_ORIGINS,
    logLevel: parsed.LOG_LEVEL,
  };
}

export type Config = ReturnType<typeof loadConfig>;

let cached: Config | undefined;
/** The process-wide config, parsed on first use (at cold start in Lambda). */
export function config(): Config {
  cached ??= loadConfig();
  return cached;
}
