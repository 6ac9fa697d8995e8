import { abandonUpload } from '#core/uploads.ts';
import type { CatalogDeps, MediaCleanupQueue, UploadAbandoner } from '#core/videos.ts';
import { outboxTopics } from '#shared/resources.ts';
import { db } from './db/index.ts';
import { PostgresVideoRepository } from './db/videos.ts';
import { publishOutboxNow } from './outbox.ts';
import { resolvePlayback } from './playback.ts';
import { sendToQueue } from './queue.ts';
import { uploadDeps } from './uploads.ts';

/** The catalog's ports wired to their cloud-or-local implementations (chosen by config, not by code). */
export async function catalog(): Promise<
  CatalogDeps & {
    cleanup: MediaCleanupQueue;
    abandonUpload: UploadAbandoner;
    videos: PostgresVideoRepository;
  }
> {
  return {
    videos: new PostgresVideoRepository(await db(), {
      // Revocations, video events and derivatives requests leave at once; should this send fail, the minute's relay sends them.
      afterOutboxWrite: () =>
        publishOutboxNow([outboxTopics.playbackRevoked, outboxTopics.event, outboxTopics.derivatives]),
    }),
    playback: resolvePlayback,
    cleanup: (video) => sendToQueue('mediaCleanup', { videoId: video.id }),
    abandonUpload: async (uploadId) => abandonUpload(await uploadDeps(), uploadId),
  };
}
