import { queueNames } from '#shared/resources.ts';

/**
 * Queue consumers: which handler (lambdas/events/<entry>.ts) drains which queue, in what batches and
 * within what time. The CDK app builds event source mappings from this table and the local runtime its
 * in-process pollers, so both agree. A queue's visibility timeout is six times its consumer's timeout
 * (AWS's guidance), and a message moves to the queue's DLQ after `maxReceiveCount` failed receives.
 *
 * Long work holds its message with a heartbeat instead (`leaseSeconds`, lambdas/adapters/heartbeat.ts).
 * AWS refuses an SQS event source whose queue's visibility timeout is shorter than the function's
 * timeout, so the queue's own timeout cannot be the short one: it stays at six times the function's
 * (what a batch waiting on a throttled function needs), and the worker, once it runs, holds its message
 * for one lease at a time, renewed every third of it. A worker killed mid-transcode (out of memory,
 * timed out, its machine gone) is retried within one lease, not after the queue's 90 minutes.
 */
export interface QueueConsumer {
  queue: string;
  entry: string;
  batchSize: number;
  timeoutSeconds: number;
  memoryMb: number;
  maxReceiveCount: number;
  /** /tmp size; the transcoder keeps every rendition there at once (it reads the source by ranges). Default 512. */
  ephemeralStorageMb?: number;
  /** Needs the ffmpeg/ffprobe layer (layers/ffmpeg), found at /opt/bin. */
  ffmpeg?: boolean;
  /** Holds its message this long at a time while it works, renewed by a heartbeat (see above). */
  leaseSeconds?: number;
  /** At most this many concurrent invocations draining the queue (the event source's maximum concurrency). */
  maxConcurrency?: number;
  /**
   * Its messages are independent jobs of one piece of work, meant to run at once (the chunk jobs of a
   * transcode): in the cloud as many invocations as `maxConcurrency` allows, locally one worker per core.
   */
  fanOut?: boolean;
}

export const queueConsumers = {
  ingest: {
    queue: queueNames.ingest,
    entry: 'ingest',
    batchSize: 5,
    timeoutSeconds: 120,
    memoryMb: 1024,
    // Eight: a record waiting for GuardDuty's verdict retries after 15 s, 30 s, ... (events/attempts.ts),
    // about 26 minutes in all before the video fails, enough for a scan of a large upload.
    maxReceiveCount: 8,
    // Probes the source where it lies (ffprobe through a loopback fence, by ranged GETs).
    ffmpeg: true,
  },
  mediaCleanup: {
    queue: queueNames.mediaCleanup,
    entry: 'media-cleanup',
    batchSize: 10,
    timeoutSeconds: 60,
    memoryMb: 512,
    maxReceiveCount: 5,
  },
  // One job per invocation: a chunk of a video's ladder (or a whole short one) uses every vCPU the memory
  // buys (3008 MB ~ 2 vCPUs). Chunk jobs fan out: a one-hour source is 479 jobs (225 chunks of 16 s x 2
  // rung groups, 29 audio chunks), all at once, up to maxConcurrency invocations (the account's Lambda
  // concurrency bounds it too; core/media/chunks.ts bounds a video's chunks to fit). Three receives: a
  // crash mid-transcode is retried twice, then the video fails with a reason.
  transcode: {
    queue: queueNames.transcode,
    entry: 'transcode',
    batchSize: 1,
    timeoutSeconds: 900,
    memoryMb: 3008,
    maxReceiveCount: 3,
    ephemeralStorageMb: 10240,
    ffmpeg: true,
    // Two minutes, renewed every 40 s: a dead worker's video is picked up again within about two
    // minutes; two renewals in a row may fail (an SQS hiccup) before the worker gives up its message.
    leaseSeconds: 120,
    fanOut: true,
    maxConcurrency: 500,
  },
  // Playback revocations from the outbox into the CDN's KeyValueStore: small, quick, retried often
  // (a revocation that waits is a URL that still works). Every write takes the store's one ETag, so
  // writers beyond two would mostly conflict: a burst of deletions queues up instead of fighting.
  edgeSync: {
    queue: queueNames.edgeSync,
    entry: 'edge-sync',
    batchSize: 10,
    timeoutSeconds: 30,
    memoryMb: 256,
    maxReceiveCount: 10,
    maxConcurrency: 2,
  },
  // Uploaded caption files (validate, publish, rewrite the master playlist) and deleted tracks.
  captions: {
    queue: queueNames.captions,
    entry: 'captions',
    batchSize: 5,
    timeoutSeconds: 60,
    memoryMb: 512,
    maxReceiveCount: 5,
  },
  // Derivatives of ready videos: MP4 downloads remuxed from the renditions (no re-encode), storyboard
  // sprites and a chosen poster. One video per invocation; ffmpeg reads renditions through a fence. Five
  // minutes covers remuxing every rung of a 2-hour ladder (a copy, not an encode) on /tmp.
  derivatives: {
    queue: queueNames.derivatives,
    entry: 'derivatives',
    batchSize: 1,
    timeoutSeconds: 300,
    memoryMb: 1769,
    maxReceiveCount: 4,
    ephemeralStorageMb: 10240,
    ffmpeg: true,
  },
  // Webhooks (outbox relay -> fan-out -> dispatch -> sender -> recorder). The fan-out turns each event
  // into deliveries (in the VPC); the sender makes one attempt per message (outside the VPC, no
  // database: up to ten in parallel, each within 10 s); the recorder keeps each result and schedules the
  // next attempt. Retries of a delivery are its own schedule's (WEBHOOK_RETRY_SCHEDULE), not redeliveries;
  // these receive counts only cover a crashing function.
  webhookFanout: {
    queue: queueNames.webhookEvents,
    entry: 'webhook-fanout',
    batchSize: 10,
    timeoutSeconds: 30,
    memoryMb: 256,
    maxReceiveCount: 10,
  },
  webhookSender: {
    queue: queueNames.webhookDeliveries,
    entry: 'webhook-sender',
    batchSize: 10,
    timeoutSeconds: 30,
    memoryMb: 256,
    maxReceiveCount: 3,
  },
  webhookRecorder: {
    queue: queueNames.webhookResults,
    entry: 'webhook-recorder',
    batchSize: 10,
    timeoutSeconds: 30,
    memoryMb: 256,
    maxReceiveCount: 10,
  },
  // Rendered events onto the stage's EventBridge bus, from outside the VPC.
  eventBus: {
    queue: queueNames.eventBus,
    entry: 'event-bus',
    batchSize: 10,
    timeoutSeconds: 30,
    memoryMb: 256,
    maxReceiveCount: 10,
  },
} satisfies Record<string, QueueConsumer>;

export const consumerList: QueueConsumer[] = Object.values(queueConsumers);

export const visibilityTimeoutSeconds = (consumer: QueueConsumer) => consumer.timeoutSeconds * 6;
