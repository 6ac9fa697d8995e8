import { logger } from '#shared/logger.ts';
import type { OutboxTopic } from '#shared/resources.ts';
import { db } from './db/index.ts';
import { OutboxRelay } from './db/outbox.ts';
import { sendBatchToQueue } from './queue.ts';

/** The outbox relay over this function's database and queues. */
export async function outboxRelay(): Promise<OutboxRelay> {
  return new OutboxRelay(await db(), sendBatchToQueue);
}

/**
 * The fast path after a commit that wrote outbox rows: hand them on at once. Should it fail, the
 * minute's relay (events/outbox-relay.ts) sends them; it never fails the change that wrote them.
 * With `topics`, only rows of those (a function may send only to the queues of topics it writes).
 */
export async function publishOutboxNow(topics?: readonly OutboxTopic[]): Promise<void> {
  await (await outboxRelay()).publishPending(100, topics).catch((error: unknown) => {
    logger.warn('outbox fast path failed; the scheduled relay will publish', { error });
  });
}
