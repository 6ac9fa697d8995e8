import { outboxRelay } from '#adapters/outbox.ts';
import { logger } from '#shared/logger.ts';

/**
 * Every minute: publishes outbox rows that the fast path (the API, right after its commit) did not get
 * out, e.g. because the function died between the commit and the send. Rows are claimed with SKIP LOCKED,
 * so this never races the fast path into a double send; it drains in pages until nothing is pending.
 */
const PAGE = 100;
const MAX_PAGES = 20;

export const handler = async (): Promise<{ published: number }> => {
  const relay = await outboxRelay();
  let published = 0;
  for (let page = 0; page < MAX_PAGES; page++) {
    const sent = await relay.publishPending(PAGE);
    published += sent;
    if (sent < PAGE) break;
  }
  if (published > 0) logger.info('outbox relayed', { published });
  return { published };
};
