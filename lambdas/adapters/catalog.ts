import type { CatalogDeps } from '#core/videos.ts';
import { outboxTopics } from '#shared/resources.ts';
import { db } from './db/index.ts';
import { PostgresVideoRepository } from './db/videos.ts';
import { publishOutboxNow } from './outbox.ts';
import { resolvePlayback } from './playback.ts';

/**
 * The catalog's ports wired to their cloud-or-local implementations (chosen by config, not by code).
 * Deleting needs more (video-deletion.ts).
 */
export async function catalog(): Promise<CatalogDeps & { videos: PostgresVideoRepository }> {
  return {
    videos: new PostgresVideoRepository(await db(), {
      // Revocations, video events and derivatives requests leave at once; should this send fail, the minute's relay sends them.
      afterOutboxWrite: () =>
        publishOutboxNow([outboxTopics.playbackRevoked, outboxTopics.event, outboxTopics.derivatives]),
    }),
    playback: resolvePlayback,
  };
}
