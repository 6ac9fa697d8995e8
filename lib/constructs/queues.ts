import { Duration } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** SQS's own maximum (256 KiB). S3 event records are a few KiB; the headroom is for batched cleanups. */
export const MAX_MESSAGE_BYTES = 262_144;
/** After this many failed receives a message moves to its DLQ instead of retrying forever. */
export const MAX_RECEIVE_COUNT = 5;

export interface QueuesProps {
  /**
   * Visibility timeout of the ingest queue. AWS's guidance for Lambda consumers is at least six times
   * the function timeout, so the ingest worker's timeout must stay at or below a sixth of this.
   * @default Duration.minutes(12)
   */
  readonly ingestVisibilityTimeout?: Duration;
  /**
   * Visibility timeout of the media-cleanup queue (same six-times rule).
   * @default Duration.minutes(6)
   */
  readonly cleanupVisibilityTimeout?: Duration;
}

/** A work queue and the dead-letter queue that catches what it cannot process. */
export interface QueuePair {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
}

/**
 * The event pipeline's queues: `ingest` (S3 ObjectCreated on uploaded sources) and `media-cleanup`
 * (objects of deleted videos). Every queue is SSE-encrypted, refuses non-TLS requests, and sends a
 * message to its DLQ after MAX_RECEIVE_COUNT receives; DLQs keep messages for the 14-day maximum so an
 * operator has time to inspect and redrive them.
 */
export class Queues extends Construct {
  public readonly ingest: QueuePair;
  public readonly cleanup: QueuePair;

  constructor(scope: Construct, id: string, props: QueuesProps = {}) {
    super(scope, id);
    this.ingest = this.pair('Ingest', props.ingestVisibilityTimeout ?? Duration.minutes(12));
    this.cleanup = this.pair('MediaCleanup', props.cleanupVisibilityTimeout ?? Duration.minutes(6));
  }

  private pair(id: string, visibilityTimeout: Duration): QueuePair {
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
      visibilityTimeout,
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });
    return { queue, deadLetterQueue };
  }
}
