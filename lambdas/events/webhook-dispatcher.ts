import { dispatchDeliveries } from '#adapters/webhooks/dispatch.ts';
import { logger } from '#shared/logger.ts';

/**
 * Every minute: dispatches delivery attempts due within the next 15 minutes that no fast path sent
 * (retries hours away on the schedule, attempts whose message or result was lost, deliveries made by a
 * fan-out that died before its dispatch). Claims are leases, so this never doubles an attempt in flight.
 */
export const handler = async (): Promise<{ dispatched: number }> => {
  const dispatched = await dispatchDeliveries({ limit: 100 });
  if (dispatched > 0) logger.info('webhook attempts dispatched', { dispatched });
  return { dispatched };
};
