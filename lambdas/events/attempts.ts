import type { SQSRecord } from 'aws-lambda';
import type { QueueConsumer } from './consumers.ts';

/** How many times SQS has handed out this message, this delivery included. */
export function receiveCount(record: SQSRecord): number {
  return Number.parseInt(record.attributes.ApproximateReceiveCount, 10) || 1;
}

/** After this delivery fails, the message goes to the dead-letter queue. */
export function isLastAttempt(record: SQSRecord, consumer: Pick<QueueConsumer, 'maxReceiveCount'>): boolean {
  return receiveCount(record) >= consumer.maxReceiveCount;
}
