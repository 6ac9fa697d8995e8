/**
 * Resource shapes that both the CDK app and the local runtime build from, so the two cannot drift:
 * the state table's keys and TTL attribute, and the browser-upload CORS rule of the uploads bucket.
 * Pure data: no AWS SDK, no CDK imports.
 */

/** The service every log line and metric point names (Powertools' `service`). */
export const serviceName = 'videocloud';

export const stateTable = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Epoch seconds. DynamoDB TTL deletes lazily (up to days late), so readers must check it too. */
  ttlAttribute: 'expiresAt',
} as const;

export interface CorsRuleDefinition {
  allowedOrigins: string[];
  allowedMethods: Array<'GET' | 'PUT' | 'POST' | 'DELETE' | 'HEAD'>;
  allowedHeaders: string[];
  exposedHeaders: string[];
  maxAgeSeconds: number;
}

/**
 * Browsers PUT presigned parts straight to the uploads bucket. They must be able to read each part's
 * ETag (CompleteMultipartUpload needs it), so ETag is exposed; without it the PUTs succeed but the
 * upload can never complete.
 */
export function uploadsBucketCors(webOrigins: string[]): CorsRuleDefinition {
  return {
    allowedOrigins: webOrigins,
    allowedMethods: ['PUT'],
    allowedHeaders: ['content-type', 'content-length', 'content-md5'],
    exposedHeaders: ['ETag'],
    maxAgeSeconds: 3000,
  };
}

/** Key prefixes the pipeline owns. The server makes every key; client file names never appear in one. */
export const objectKeys = {
  uploadsPrefix: 'uploads/',
  source: (videoId: string) => `uploads/${videoId}/source`,
  /** A caption file as its owner uploaded it (validated, then removed). */
  captionSource: (videoId: string, captionId: string) => `uploads/${videoId}/captions/${captionId}/caption`,
  /** Every video's media lie under here (grants on the media bucket name it). */
  mediaRoot: 'videos/',
  mediaPrefix: (videoId: string) => `videos/${videoId}/`,
  /** The published track, relative to the video's media prefix (and so to its master playlist). */
  captionFile: (captionId: string) => `captions/${captionId}.vtt`,
  captionPlaylist: (captionId: string) => `captions/${captionId}.m3u8`,
  /** Derivatives (events/derivatives.ts), relative to the video's media prefix like the rest. */
  download: (rendition: string) => `downloads/${rendition}.mp4`,
  storyboardVtt: 'storyboard/storyboard.vtt',
  storyboardSprite: (sprite: string) => `storyboard/${sprite}`,
  /** A chosen poster gets a key of its own per time: the CDN caches images for a year under their key. */
  chosenPoster: (millis: number) => `posters/poster-${millis}.jpg`,
  chosenThumbnail: (millis: number) => `posters/thumbnail-${millis}.jpg`,
} as const;

/**
 * Which uploads-bucket objects go to which queue: the S3 notifications of the CDK app and the local
 * runtime's S3 -> SQS bridge are both made from this list.
 */
export const uploadNotifications: ReadonlyArray<{
  prefix: string;
  suffix: string;
  queue: keyof typeof queueNames;
}> = [
  { prefix: objectKeys.uploadsPrefix, suffix: '/source', queue: 'ingest' },
  { prefix: objectKeys.uploadsPrefix, suffix: '/caption', queue: 'captions' },
];

export const queueNames = {
  ingest: 'ingest',
  mediaCleanup: 'media-cleanup',
  transcode: 'transcode',
  edgeSync: 'edge-sync',
  captions: 'captions',
  /** MP4 downloads, storyboards and chosen posters of ready videos (events/derivatives.ts). */
  derivatives: 'derivatives',
  /** Domain events from the outbox, fanned out into one delivery per subscribed endpoint. */
  webhookEvents: 'webhook-events',
  /** One message per delivery attempt, signed, for the sender (outside the VPC). */
  webhookDeliveries: 'webhook-deliveries',
  /** What each attempt answered, from the sender back to the recorder (in the VPC). */
  webhookResults: 'webhook-results',
  /** Rendered events for the stage's EventBridge bus (PutEvents from outside the VPC). */
  eventBus: 'event-bus',
} as const;

export type QueueKey = keyof typeof queueNames;
export const queueKeys = Object.keys(queueNames) as QueueKey[];

/** The key of a queue, by its name (consumers.ts names queues). */
export function queueKeyOf(name: string): QueueKey {
  const key = queueKeys.find((candidate) => queueNames[candidate] === name);
  if (!key) throw new Error(`no queue is named "${name}" in queueNames`);
  return key;
}

/** Queues a function sends to the dead-letter queue of, itself (the webhook sender fails a delivery there). */
export const deadLetterTargets = ['webhookDeliveries'] as const satisfies readonly QueueKey[];

/** What a function can be configured to send to: a queue, or the dead-letter queue of one of those above. */
export type QueueRef = QueueKey | `${(typeof deadLetterTargets)[number]}Dlq`;
export const queueRefs: readonly QueueRef[] = [
  ...queueKeys,
  ...deadLetterTargets.map((key) => `${key}Dlq` as const),
];

type ScreamingSnake<S extends string> = S extends `${infer Head}${infer Tail}`
  ? `${Head extends Lowercase<Head> ? Uppercase<Head> : `_${Head}`}${ScreamingSnake<Tail>}`
  : '';
/** The environment variable a queue's URL is read from: `mediaCleanup` -> `MEDIA_CLEANUP_QUEUE_URL`. */
export type QueueUrlVariable<R extends QueueRef = QueueRef> = R extends `${infer Key}Dlq`
  ? `${ScreamingSnake<Key>}_DLQ_URL`
  : `${ScreamingSnake<R>}_QUEUE_URL`;

/** The one rule that names queue URL variables; config, CDK and the local runtime all call it. */
export function queueUrlVariable<R extends QueueRef>(ref: R): QueueUrlVariable<R> {
  const dlq = ref.endsWith('Dlq');
  const snake = (dlq ? ref.slice(0, -3) : ref).replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
  return `${snake}_${dlq ? 'DLQ' : 'QUEUE'}_URL` as QueueUrlVariable<R>;
}

/** A queue's dead-letter queue, by name (the local runtime's; CDK lets CloudFormation name them). */
export const deadLetterQueueName = (queue: string) => `${queue}-dlq`;

/** The queue a reference names: its own, or its dead-letter queue. */
export function queueNameOf(ref: QueueRef): string {
  return ref.endsWith('Dlq')
    ? deadLetterQueueName(queueNames[ref.slice(0, -3) as QueueKey])
    : queueNames[ref as QueueKey];
}

/**
 * Outbox topics (migration 0005) and the queue the relay hands each one to. `playback.revoked`
 * (`{videoId, epoch}`): the CDN's KeyValueStore must refuse the video's tokens older than `epoch`.
 * `event` (core/events.ts `OutboxEvent`, migration 0008): a domain event for webhooks and EventBridge.
 */
export const outboxTopics = {
  playbackRevoked: 'playback.revoked',
  /** `{videoId, captionId}`: a deleted track's files go and the master playlist is written again. */
  captionDeleted: 'caption.deleted',
  /**
   * `{videoId}`: the video's derivatives (downloads, storyboard, poster) must be brought in line with its
   * settings. Written with `video.ready` and with a PATCH of `downloads` or `posterTimeSeconds`.
   */
  derivatives: 'derivatives.requested',
  event: 'event',
} as const;
export type OutboxTopic = (typeof outboxTopics)[keyof typeof outboxTopics];

export const outboxQueues: Record<OutboxTopic, keyof typeof queueNames> = {
  'playback.revoked': 'edgeSync',
  'caption.deleted': 'captions',
  'derivatives.requested': 'derivatives',
  event: 'webhookEvents',
};

/** The stage's EventBridge bus; `source` of every event VideoCloud puts on it. */
export const eventBus = {
  name: (stage: string) => `VideoCloud-${stage}`,
  source: 'videocloud',
} as const;

/**
 * The OpenAPI document in the openapi function's bundle: written there at bundling time (the bundling
 * hook runs bin/openapi.ts, lib/constructs/bundling.ts) and served by lambdas/api/openapi.ts.
 */
export const bundledOpenApiDocument = { directory: 'openapi', file: 'openapi.json' } as const;

/** Names in the CDN's KeyValueStore (read by lambdas/edge/playback-gate.js). */
export const edgeKeys = {
  signingKey: (kid: string) => `key:${kid}`,
  revocation: (videoId: string) => `rev:${videoId}`,
} as const;

/** The tag GuardDuty Malware Protection for S3 writes on each object it scans, and its clean value. */
export const guardDutyScan = {
  tag: 'GuardDutyMalwareScanStatus',
  clean: 'NO_THREATS_FOUND',
} as const;

/**
 * The MediaConvert job UserMetadata key that names the stage a job belongs to; the job-state rule
 * (CDK) and the status handler both match on it, so stages in one account never settle each other's jobs.
 */
export const JOB_METADATA_STAGE = 'videocloudStage';
