import { sql } from 'kysely';
import { db } from '#adapters/db/index.ts';
import { sendToQueue } from '#adapters/queue.ts';
import { logger } from '#shared/logger.ts';

/**
 * Deleting a video hides it at once and queues the removal of its objects. If that hand-off is lost
 * (the queue send failed after the delete committed) or the removal was dead-lettered, the objects
 * would stay forever; this sweep finds deleted videos whose media are still recorded as present and
 * queues them again. The cleanup worker is idempotent, so a video queued twice costs nothing.
 */
/** Younger deletions are left to the normal hand-off, which is normally done within seconds. */
const GRACE_MINUTES = 15;
const BATCH = 500;

export const handler = async (): Promise<{ queued: number }> => {
  const stale = await (await db())
    .selectFrom('videos')
    .select('id')
    .where('deleted_at', '<', sql<Date>`now() - make_interval(mins => ${GRACE_MINUTES})`)
    .where('media_removed_at', 'is', null)
    .orderBy('deleted_at')
    .limit(BATCH)
    .execute();
  for (const { id } of stale) await sendToQueue('cleanup', { videoId: id });
  if (stale.length > 0) logger.info('cleanup re-queued', { videos: stale.length });
  return { queued: stale.length };
};
