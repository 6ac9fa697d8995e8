import { outboxTopics } from '#shared/resources.ts';
import { db } from './db/index.ts';
import { PipelineVideos } from './db/pipeline.ts';
import { publishOutboxNow } from './outbox.ts';

/** The pipeline's status moves over Postgres; their events leave through the outbox right after each commit. */
export async function pipelineStore(): Promise<PipelineVideos> {
  return new PipelineVideos(await db(), {
    afterOutboxWrite: () => publishOutboxNow([outboxTopics.event, outboxTopics.derivatives]),
  });
}
