import { CleanupVideos } from '#adapters/db/cleanup.ts';
import { db } from '#adapters/db/index.ts';
import { sendBatchToQueue } from '#adapters/queue.ts';
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
  const stale = await new CleanupVideos(await db()).awaitingRemoval(GRACE_MINUTES, BATCH);
  await sendBatchToQueue(
    'mediaCleanup',
    stale.map((videoId) => ({ videoId })),
  );
  if (stale.length > 0) logger.info('cleanup re-queued', { videos: stale.length });
  return { queued: stale.length };
};
