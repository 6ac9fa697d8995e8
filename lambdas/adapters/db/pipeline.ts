import { type Kysely, sql } from 'kysely';
import type { Database } from './schema.ts';

/**
 * Status transitions the media pipeline makes. Each is conditional on the state it expects, so a
 * redelivered or out-of-order message can never move a video backwards (a ready video never becomes
 * failed, a deleted one never becomes ready).
 */
export class PipelineVideos {
  constructor(private readonly db: Kysely<Database>) {}

  find(videoId: string) {
    return this.db.selectFrom('videos').selectAll().where('id', '=', videoId).executeTakeFirst();
  }

  /**
   * Claims the video for the pipeline on behalf of one write of its source. Only the first claim wins:
   * a duplicate or out-of-order event for another revision of the same key finds it taken.
   */
  async claim(videoId: string, revision: string): Promise<boolean> {
    const result = await this.db
      .updateTable('videos')
      .set({ ingested_revision: revision, updated_at: sql`now()` })
      .where('id', '=', videoId)
      .where('status', '=', 'processing')
      .where('ingested_revision', 'is', null)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** processing -> failed, with a reason a person can act on. */
  async fail(videoId: string, reason: string): Promise<boolean> {
    const result = await this.db
      .updateTable('videos')
      .set({ status: 'failed', failure_reason: reason, updated_at: sql`now()` })
      .where('id', '=', videoId)
      .where('status', '=', 'processing')
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }
}
