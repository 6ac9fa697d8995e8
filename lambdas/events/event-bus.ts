import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import * as z from 'zod';
import { putOnBus } from '#adapters/webhooks/bus.ts';
import { eventTypes } from '#core/events.ts';
import { logger } from '#shared/logger.ts';

/**
 * Event-bus queue -> here: the rendered events onto the stage's EventBridge bus `VideoCloud-<stage>`
 * (detail-type = event type), from outside the VPC (no interface endpoint needed) and without a
 * database. Where no bus is configured (the local runtime) the events are dropped here.
 */
const Event = z.strictObject({
  id: z.uuid(),
  type: z.enum(eventTypes),
  timestamp: z.iso.datetime(),
  data: z.record(z.string(), z.unknown()),
});

export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const failures: string[] = [];
  const valid: Array<{ messageId: string; event: z.infer<typeof Event> }> = [];
  for (const record of event.Records) {
    const parsed = Event.safeParse(JSON.parse(record.body));
    if (parsed.success) valid.push({ messageId: record.messageId, event: parsed.data });
    else {
      logger.error('event-bus: malformed message', { messageId: record.messageId });
      failures.push(record.messageId);
    }
  }
  try {
    const put = await putOnBus(valid.map((v) => v.event));
    if (put > 0) logger.info('events put on the bus', { put });
  } catch (error) {
    logger.error('event-bus: PutEvents failed; the batch is retried', { error });
    failures.push(...valid.map((v) => v.messageId));
  }
  return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
};
