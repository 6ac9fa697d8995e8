import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { config } from '#shared/config.ts';

let sqs: SQSClient | undefined;

function client(): SQSClient {
  const { region, sqsEndpoint } = config();
  sqs ??= new SQSClient({ region, ...(sqsEndpoint ? { endpoint: sqsEndpoint } : {}) });
  return sqs;
}

/** Sends one JSON message to a named queue whose URL this function was configured with. */
export async function sendToQueue(
  queue: 'ingest' | 'cleanup' | 'transcode',
  message: unknown,
): Promise<void> {
  const url = config().queues[queue];
  if (!url) throw new Error(`${queue.toUpperCase()}_QUEUE_URL is not set on this function`);
  await client().send(new SendMessageCommand({ QueueUrl: url, MessageBody: JSON.stringify(message) }));
}
