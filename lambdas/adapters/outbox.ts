import { db } from './db/index.ts';
import { OutboxRelay } from './db/outbox.ts';
import { sendBatchToQueue } from './queue.ts';

/** The outbox relay over this function's database and queues. */
export async function outboxRelay(): Promise<OutboxRelay> {
  return new OutboxRelay(await db(), sendBatchToQueue);
}
