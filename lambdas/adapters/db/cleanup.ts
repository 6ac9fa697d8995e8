import type { VideoRow } from './schema.ts';
import { type Db, sql } from './sql.ts';

/** The media-cleanup worker's and the sweep's view of videos: deleted ones and whether their media remain. */
export class CleanupVideos {
  constructor(private readonly db: Db) {}

  /** True while the video exists and is not deleted: its media must stay, whatever a message says. */
  async isLive(videoId: string): Promise<boolean> {
    const row = await this.db.first<Pick<VideoRow, 'deleted_at'>>(
      sql`select deleted_at from videos where id = ${videoId}`,
    );
    return row !== undefined && row.deleted_at === null;
  }

  async markMediaRemoved(videoId: string): Promise<void> {
    await this.db.run(sql`update videos set media_removed_at = now() where id = ${videoId}`);
  }

  /** Deleted longer ago than `graceMinutes` with media still recorded as stored, oldest first. */
  async awaitingRemoval(graceMinutes: number, limit: number): Promise<string[]> {
    const rows = await this.db.all<Pick<VideoRow, 'id'>>(
      sql`select id from videos
          where deleted_at < now() - make_interval(mins => ${graceMinutes}) and media_removed_at is null
          order by deleted_at limit ${limit}`,
    );
    return rows.map((row) => row.id);
  }
}
