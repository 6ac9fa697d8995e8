import { Duration } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  type QueueConsumer,
  queueConsumers,
  visibilityTimeoutSeconds,
} from '../../lambdas/events/consumers.ts';
import type { queueNames } from '../../lambdas/shared/resources.ts';

/** SQS's own maximum (256 KiB). S3 event records are a few KiB; the headroom is for batched cleanups. */
export const MAX_MESSAGE_BYTES = 262_144;

/** A work queue, the dead-letter queue that catches what it cannot process, and who consumes it. */
export interface QueuePair {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  /** The row of lambdas/events/consumers.ts the queue's timing and redrive come from. */
  readonly consumer: QueueConsumer;
}

/**
 * The event pipeline's queues: `ingest` (S3 ObjectCreated on uploaded sources), `media-cleanup`
 * (objects of deleted videos), `transcode` (planned ffmpeg transcodes), `edge-sync` (playback
 * revocations from the outbox), and the webhook path: `webhook-events` (events from the outbox),
 * `webhook-deliveries` (signed attempts), `webhook-results` (their outcomes) and `event-bus` (events for
 * EventBridge). Each queue's visibility
 * timeout (six times its consumer's timeout) and maxReceiveCount come from the consumer table in
 * lambdas/events/consumers.ts, the same table the local runtime builds its pollers from, so the numbers
 * exist once. Every queue is SSE-encrypted and refuses non-TLS requests; DLQs keep messages for the
 * 14-day maximum so an operator has time to inspect and redrive them.
 */
export class Queues extends Construct {
  public readonly ingest: QueuePair;
  public readonly mediaCleanup: QueuePair;
  public readonly transcode: QueuePair;
  /** Playback revocations on their way to the CDN's KeyValueStore. */
  public readonly edgeSync: QueuePair;
  /** Uploaded caption files, and deleted tracks, for the captions worker. */
  public readonly captions: QueuePair;
  /** Ready videos whose downloads, storyboard or poster must be (re)made, for the derivatives worker. */
  public readonly derivatives: QueuePair;
  /** Domain events from the outbox, for the webhook fan-out. */
  public readonly webhookEvents: QueuePair;
  /** Signed delivery attempts for the sender; its DLQ also parks deliveries that failed every attempt. */
  public readonly webhookDeliveries: QueuePair;
  /** What each attempt got, for the recorder. */
  public readonly webhookResults: QueuePair;
  /** Rendered events for the EventBridge bus. */
  public readonly eventBus: QueuePair;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.ingest = this.pair('Ingest', queueConsumers.ingest);
    this.mediaCleanup = this.pair('MediaCleanup', queueConsumers.mediaCleanup);
    this.transcode = this.pair('Transcode', queueConsumers.transcode);
    this.edgeSync = this.pair('EdgeSync', queueConsumers.edgeSync);
    this.captions = this.pair('Captions', queueConsumers.captions);
    this.derivatives = this.pair('Derivatives', queueConsumers.derivatives);
    this.webhookEvents = this.pair('WebhookEvents', queueConsumers.webhookFanout);
    this.webhookDeliveries = this.pair('WebhookDeliveries', queueConsumers.webhookSender);
    this.webhookResults = this.pair('WebhookResults', queueConsumers.webhookRecorder);
    this.eventBus = this.pair('EventBus', queueConsumers.eventBus);
  }

  /** Every pair, keyed by the consumer's queue name (consumers.ts `queue`). */
  public get byQueueName(): ReadonlyMap<string, QueuePair> {
    return new Map(Object.values(this.byKey).map((pair) => [pair.consumer.queue, pair]));
  }

  /** Every pair, keyed as lambdas/shared/resources.ts `queueNames` keys them. */
  public get byKey(): Readonly<Record<keyof typeof queueNames, QueuePair>> {
    return {
      ingest: this.ingest,
      mediaCleanup: this.mediaCleanup,
      transcode: this.transcode,
      edgeSync: this.edgeSync,
      captions: this.captions,
      derivatives: this.derivatives,
      webhookEvents: this.webhookEvents,
      webhookDeliveries: this.webhookDeliveries,
      webhookResults: this.webhookResults,
      eventBus: this.eventBus,
    };
  }

  private pair(id: string, consumer: QueueConsumer): QueuePair {
    const common = {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      maxMessageSizeBytes: MAX_MESSAGE_BYTES,
    } satisfies sqs.QueueProps;
    const deadLetterQueue = new sqs.Queue(this, `${id}Dlq`, {
      ...common,
      retentionPeriod: Duration.days(14),
    });
    const queue = new sqs.Queue(this, id, {
      ...common,
      visibilityTimeout: Duration.seconds(visibilityTimeoutSeconds(consumer)),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: consumer.maxReceiveCount },
    });
    return { queue, deadLetterQueue, consumer };
  }
}
