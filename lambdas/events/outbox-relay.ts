import { outboxRelay } from '#adapters/outbox.ts';
import { logger } from '#shared/logger.ts';

/**
 * Every minute: publishes outbox rows that the fast path (the API, right after its commit) did not get
 * out, e.g. because the function died between the commit and the send. Rows are claimed with SKIP LOCKED,
 * so this never races the fast path into a double send; it drains in pages until nothing is pending.
 * Then it removes a batch of rows published longer ago than the retention below.
 */
const PAGE = 100;
const MAX_PAGES = 20;
/**
 * Published rows are kept this long, then removed: longer than a message can wait in a queue and its
 * DLQ (4 + 14 days), since the webhook fan-out reads the event's row when the message finally arrives.
 */
export const OUTBOX_RETENTION_DAYS = 30;

export const handler = async (): Promise<{ published: number; pruned: number }> => {
  const relay = await outboxRelay();
  let published = 0;
  for (let page = 0; page < MAX_PAGES; page++) {
    const sent = await relay.publishPending(PAGE);
    published += sent;
    if (sent < PAGE) break;
  }
  const pruned = await relay.prunePublished(OUTBOX_RETENTION_DAYS);
  if (published > 0 || pruned > 0) logger.info('outbox relayed', { published, pruned });
  return { published, pruned };
};
