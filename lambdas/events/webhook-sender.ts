import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { sendBatchToQueue } from '#adapters/queue.ts';
import { postWebhook } from '#adapters/webhooks/http.ts';
import { type AttemptMessage, type AttemptResult, SIGNATURE_FRESH_SECONDS } from '#core/webhooks.ts';
import { config } from '#shared/config.ts';
import { logger } from '#shared/logger.ts';

/**
 * Deliveries queue -> here: the only code that talks to webhook endpoints. It runs outside the VPC and
 * has no database and no secret: each message is one attempt, already signed. It checks the URL and the
 * addresses the host resolves to (SSRF rules), POSTs to the checked address with a 10 s limit, and
 * reports what happened to the results queue, where the recorder (in the VPC) keeps it and schedules the
 * next attempt. A failed final attempt is parked in the deliveries DLQ, which an alarm watches. An
 * attempt whose signature is too old to verify (it waited too long in the queue) is not sent; it is
 * reported stale and signed again.
 */
const Message = z.strictObject({
  deliveryId: z.uuid(),
  endpointId: z.uuid(),
  attempt: z.int().min(1),
  final: z.boolean(),
  url: z.string().min(1).max(2048),
  body: z.string(),
  headers: z.strictObject({
    'webhook-id': z.string().min(1),
    'webhook-timestamp': z.string().regex(/^\d+$/),
    'webhook-signature': z.string().min(1),
  }),
});

async function attempt(message: AttemptMessage): Promise<AttemptResult> {
  const signedAt = Number(message.headers['webhook-timestamp']);
  if (Math.abs(Date.now() / 1000 - signedAt) > SIGNATURE_FRESH_SECONDS) {
    return { kind: 'stale', deliveryId: message.deliveryId, attempt: message.attempt };
  }
  const at = new Date().toISOString();
  const outcome = await postWebhook(
    { ...message, headers: { ...message.headers } },
    { allowLoopbackHttp: config().webhooks.allowLoopbackHttp },
  );
  return { kind: 'attempted', deliveryId: message.deliveryId, attempt: message.attempt, at, ...outcome };
}

async function sendRecord(record: SQSRecord): Promise<void> {
  const message = Message.parse(JSON.parse(record.body));
  const result = await attempt(message);
  await sendBatchToQueue('webhookResults', [result]);
  if (result.kind === 'attempted' && !result.succeeded && message.final) {
    await sendBatchToQueue('webhookDeliveriesDlq', [message]);
  }
  logger.info('webhook attempt', {
    deliveryId: message.deliveryId,
    attempt: message.attempt,
    ...(result.kind === 'attempted'
      ? { succeeded: result.succeeded, statusCode: result.statusCode, error: result.error }
      : { stale: true }),
  });
}

export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const outcomes = await Promise.allSettled(event.Records.map((record) => sendRecord(record)));
  const failures = event.Records.filter((_, i) => outcomes[i]!.status === 'rejected');
  for (const [i, outcome] of outcomes.entries()) {
    if (outcome.status === 'rejected') {
      logger.error('webhook attempt not recorded; the message is retried', {
        messageId: event.Records[i]!.messageId,
        error: outcome.reason,
      });
    }
  }
  return { batchItemFailures: failures.map((record) => ({ itemIdentifier: record.messageId })) };
};
