import { queueNames } from '#shared/resources.ts';

/**
 * Queue consumers: which handler (lambdas/events/<entry>.ts) drains which queue, in what batches and
 * within what time. The CDK app builds event source mappings from this table and the local runtime its
 * in-process pollers, so both agree. A queue's visibility timeout is six times its consumer's timeout
 * (AWS's guidance), and a message moves to the queue's DLQ after `maxReceiveCount` failed receives.
 */
export interface QueueConsumer {
  queue: string;
  entry: string;
  batchSize: number;
  timeoutSeconds: number;
  memoryMb: number;
  maxReceiveCount: number;
}

export const queueConsumers = {
  ingest: {
    queue: queueNames.ingest,
    entry: 'ingest',
    batchSize: 5,
    timeoutSeconds: 120,
    memoryMb: 1024,
    maxReceiveCount: 5,
  },
  mediaCleanup: {
    queue: queueNames.cleanup,
    entry: 'media-cleanup',
    batchSize: 10,
    timeoutSeconds: 60,
    memoryMb: 512,
    maxReceiveCount: 5,
  },
} satisfies Record<string, QueueConsumer>;

export const consumerList: QueueConsumer[] = Object.values(queueConsumers);

export const visibilityTimeoutSeconds = (consumer: QueueConsumer) => consumer.timeoutSeconds * 6;
