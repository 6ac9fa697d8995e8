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

/**
 * How long a record that must wait (a malware scan still running, the API mid-complete) stays hidden
 * before its next try: 15 s, doubling, at most 10 min. The queue's own visibility timeout (six times
 * the consumer's) suits crashes, not waits that usually end within seconds.
 */
export function waitBeforeRetrySeconds(record: SQSRecord): number {
  return Math.min(600, 15 * 2 ** (receiveCount(record) - 1));
}
