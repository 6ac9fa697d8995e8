import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import * as z from 'zod';
import { db } from '#adapters/db/index.ts';
import { PostgresWebhooks } from '#adapters/db/webhooks.ts';
import { recordMetrics } from '#adapters/metrics.ts';
import { resolvePlayback } from '#adapters/playback.ts';
import { sendBatchToQueue } from '#adapters/queue.ts';
import { dispatchSoon } from '#adapters/webhooks/dispatch.ts';
import { renderEvent } from '#core/events.ts';
import { eventMetrics } from '#core/metrics.ts';
import { logger } from '#shared/logger.ts';

/**
 * Outbox relay -> webhook-events queue -> here (in the VPC): each domain event becomes one delivery per
 * endpoint that takes it, and goes on to the EventBridge bus (event-bus queue). The message names the
 * event; what is delivered is read from the outbox row, so only events the database holds are ever
 * signed. Ready videos get their playback URLs here (this function holds the signing key; the pipeline
 * functions that made the change do not). A repeated message adds no delivery (unique endpoint + event).
 * Every event passes here, so here it is counted (core/metrics.ts): at least once, like its delivery.
 */
const Message = z.looseObject({ id: z.uuid() });

export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const repo = new PostgresWebhooks(await db());
  const failures: string[] = [];
  for (const record of event.Records) {
    try {
      const { id } = Message.parse(JSON.parse(record.body));
      const stored = await repo.outboxEvent(id);
      if (!stored) {
        logger.warn('webhook fan-out: no such event in the outbox; ignored', {
          messageId: record.messageId,
          id,
        });
        continue;
      }
      const rendered = await renderEvent(stored, (source) =>
        resolvePlayback({
          ...source,
          downloads: source.downloads ?? 'none',
          renditions: source.renditions ?? [],
          derivatives: source.derivatives ?? null,
        }),
      );
      const deliveries = await repo.fanOut(stored, JSON.stringify(rendered));
      await dispatchSoon(deliveries);
      await sendBatchToQueue('eventBus', [rendered]);
      recordMetrics(eventMetrics(rendered));
      logger.info('event fanned out', { eventId: id, type: stored.type, deliveries: deliveries.length });
    } catch (error) {
      logger.error('webhook fan-out failed; the message is retried', { messageId: record.messageId, error });
      failures.push(record.messageId);
    }
  }
  return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
};
