import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import * as z from 'zod';
import { db } from '#adapters/db/index.ts';
import { PostgresWebhooks } from '#adapters/db/webhooks.ts';
import { recordMetrics } from '#adapters/metrics.ts';
import { dispatchSoon } from '#adapters/webhooks/dispatch.ts';
import { attemptMetrics } from '#core/metrics.ts';
import type { AttemptResult } from '#core/webhooks.ts';
import { config } from '#shared/config.ts';
import { logger } from '#shared/logger.ts';

/**
 * Results queue -> here (in the VPC): keeps what each attempt got in the delivery (status code, latency,
 * a short excerpt, the error), schedules the next attempt from WEBHOOK_RETRY_SCHEDULE (or fails the
 * delivery after the last), keeps the endpoint's failure streak and disables an endpoint that failed
 * every delivery for WEBHOOK_DISABLE_AFTER_DAYS. A next attempt due within 15 minutes is dispatched at
 * once, with its delay; later ones by the minute's sweep. Recording is idempotent per attempt number.
 */
const Result = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('attempted'),
    deliveryId: z.uuid(),
    attempt: z.int().min(1),
    at: z.iso.datetime(),
    succeeded: z.boolean(),
    statusCode: z.int().nullable(),
    latencyMs: z.int().nullable(),
    responseExcerpt: z.string().nullable(),
    error: z.string().nullable(),
  }),
  z.strictObject({ kind: z.literal('stale'), deliveryId: z.uuid(), attempt: z.int().min(1) }),
]);

export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const repo = new PostgresWebhooks(await db());
  const { webhooks } = config();
  const failures: string[] = [];
  const dispatch: string[] = [];
  for (const record of event.Records) {
    try {
      const result: AttemptResult = Result.parse(JSON.parse(record.body));
      const { dispatchNow, settled } = await repo.recordResult(result, {
        schedule: webhooks.retrySchedule,
        disableAfterDays: webhooks.disableAfterDays,
      });
      recordMetrics(attemptMetrics(result, settled));
      if (dispatchNow) dispatch.push(result.deliveryId);
    } catch (error) {
      logger.error('webhook result not recorded; the message is retried', {
        messageId: record.messageId,
        error,
      });
      failures.push(record.messageId);
    }
  }
  await dispatchSoon(dispatch);
  return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
};
