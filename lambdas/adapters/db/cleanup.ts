import { type Kysely, sql } from 'kysely';
import type { Database } from './schema.ts';

/** The media-cleanup worker's and the sweep's view of videos: deleted ones and whether their media remain. */
export class CleanupVideos {
  constructor(private readonly db: Kysely<Database>) {}

  /** True while the video exists and is not deleted: its media must stay, whatever a message says. */
  async isLive(videoId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('videos')
      .select('deleted_at')
      .where('id', '=', videoId)
      .executeTakeFirst();
    return row !== undefined && row.deleted_at === null;
  }

  async markMediaRemoved(videoId: string): Promise<void> {
    await this.db
      .updateTable('videos')
      .set({ media_removed_at: sql`now()` })
      .where('id', '=', videoId)
      .execute();
  }

  /** Deleted longer ago than `graceMinutes` with media still recorded as stored, oldest first. */
  async awaitingRemoval(graceMinutes: number, limit: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('videos')
      .select('id')
      .where('deleted_at', '<', sql<Date>`now() - make_interval(mins => ${graceMinutes})`)
      .where('media_removed_at', 'is', null)
      .orderBy('deleted_at')
      .limit(limit)
      .execute();
    return rows.map((row) => row.id);
  }
}
