import { config } from '#shared/config.ts';
import { type QueueRef, queueUrlVariable } from '#shared/resources.ts';
import { awsJsonCall } from './aws-json.ts';

/**
 * Sends to SQS and changes message visibility: three operations of SQS's JSON protocol, one signed
 * request each (aws-json.ts), so the many functions that send a message carry no SQS client.
 */
interface BatchOutput {
  Failed?: Array<{ Id: string; Code?: string; Message?: string }>;
}

export type QueueName = QueueRef;

function queueUrl(queue: QueueName): string {
  const url = config().queues[queue];
  if (!url) throw new Error(`${queueUrlVariable(queue)} is not set on this function`);
  return url;
}

/** Sends one JSON message to a named queue whose URL this function was configured with. */
export async function sendToQueue(queue: QueueName, message: unknown): Promise<void> {
  await awsJsonCall('sqs', 'SendMessage', {
    QueueUrl: queueUrl(queue),
    MessageBody: JSON.stringify(message),
  });
}

/** Sends many JSON messages, ten per request (SQS's batch limit); a refused entry is an error. */
export async function sendBatchToQueue(queue: QueueName, messages: readonly unknown[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    const result = await awsJsonCall<BatchOutput>('sqs', 'SendMessageBatch', {
      QueueUrl: queueUrl(queue),
      Entries: messages.slice(i, i + 10).map((message, n) => ({
        Id: String(n),
        MessageBody: JSON.stringify(message),
      })),
    });
    if (result.Failed?.length) {
      throw new Error(`${result.Failed.length} message(s) refused by ${queue}: ${result.Failed[0]?.Message}`);
    }
  }
}

/** Sends messages that each become visible after their own delay (0..900 s, SQS's range), ten a request. */
export async function sendDelayedBatch(
  queue: QueueName,
  messages: ReadonlyArray<{ body: unknown; delaySeconds: number }>,
): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    const result = await awsJsonCall<BatchOutput>('sqs', 'SendMessageBatch', {
      QueueUrl: queueUrl(queue),
      Entries: messages.slice(i, i + 10).map((message, n) => ({
        Id: String(n),
        MessageBody: JSON.stringify(message.body),
        DelaySeconds: Math.max(0, Math.min(900, Math.round(message.delaySeconds))),
      })),
    });
    if (result.Failed?.length) {
      throw new Error(`${result.Failed.length} message(s) refused by ${queue}: ${result.Failed[0]?.Message}`);
    }
  }
}

/** Makes a received message visible again after `seconds` (instead of the queue's whole timeout). */
export async function retryAfter(queue: QueueName, receiptHandle: string, seconds: number): Promise<void> {
  await holdMessage(queue, receiptHandle, seconds);
}

/** Keeps a received message invisible for `seconds` from now (SQS allows up to 12 hours in all). */
export async function holdMessage(queue: QueueName, receiptHandle: string, seconds: number): Promise<void> {
  await awsJsonCall('sqs', 'ChangeMessageVisibility', {
    QueueUrl: queueUrl(queue),
    ReceiptHandle: receiptHandle,
    VisibilityTimeout: Math.round(seconds),
  });
}
