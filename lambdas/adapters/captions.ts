import type { CaptionDeps } from '#core/captions.ts';
import { logger } from '#shared/logger.ts';
import { outboxTopics } from '#shared/resources.ts';
import { CaptionSources } from './caption-objects.ts';
import { PostgresCaptions } from './db/captions.ts';
import { db } from './db/index.ts';
import { PostgresVideoRepository } from './db/videos.ts';
import { outboxRelay } from './outbox.ts';

/** The caption routes' ports: Postgres for tracks (and their outbox), S3 for the upload URL. */
export async function captionDeps(): Promise<CaptionDeps> {
  const database = await db();
  return {
    videos: new PostgresVideoRepository(database),
    captions: new PostgresCaptions(database, {
      // The track's files go at once; should this send fail, the minute's outbox relay sends it.
      afterOutboxWrite: async () => {
        await (await outboxRelay())
          .publishPending(100, [outboxTopics.captionDeleted])
          .catch((error: unknown) => {
            logger.warn('outbox fast path failed; the scheduled relay will publish', { error });
          });
      },
    }),
    uploads: new CaptionSources(),
  };
}
