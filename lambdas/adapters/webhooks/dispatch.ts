import { attemptMessage } from '#core/webhooks.ts';
import { config } from '#shared/config.ts';
import { logger } from '#shared/logger.ts';
import { db } from '../db/index.ts';
import { PostgresWebhooks } from '../db/webhooks.ts';
import { sendDelayedBatch } from '../queue.ts';

/**
 * Hands deliveries whose next attempt is due (within SQS's 15-minute delay range) to the sender: claims
 * them (a lease, so two dispatchers never send the same attempt at once), signs each attempt with the
 * endpoint's current secrets and URL for the moment it is due, and sends it with that delay. Runs in the
 * VPC, beside the database: right after a delivery is made or an attempt fails (the fast paths), and
 * every minute for everything else (events/webhook-dispatcher.ts), which also catches attempts whose
 * message was lost.
 */
export async function dispatchDeliveries(options: { ids?: string[]; limit?: number } = {}): Promise<number> {
  const repo = new PostgresWebhooks(await db());
  const { webhooks } = config();
  let total = 0;
  for (;;) {
    const due = await repo.claimDue({
      ...(options.ids ? { ids: options.ids } : {}),
      limit: options.limit ?? 100,
    });
    if (due.length === 0) return total;
    const now = new Date();
    try {
      await sendDelayedBatch(
        'webhookDeliveries',
        due.map((delivery) => {
          const { message, delaySeconds } = attemptMessage(delivery, webhooks.retrySchedule, now);
          return { body: message, delaySeconds };
        }),
      );
    } catch (error) {
      await repo.releaseClaims(due.map((delivery) => delivery.id)).catch(() => undefined);
      throw error;
    }
    total += due.length;
    if (options.ids || due.length < (options.limit ?? 100)) return total;
  }
}

/** The fast path: dispatch these now, and leave any failure to the minute's sweep. */
export async function dispatchSoon(ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await dispatchDeliveries({ ids }).catch((error: unknown) =>
    logger.warn('webhook dispatch failed; the minute sweep will send', { error }),
  );
}
