import {
  type OutboxEvent,
  type UploadView,
  uploadEvent,
  type VideoEventType,
  videoEvent,
} from '#core/events.ts';
import type { Rendition } from '#core/video.ts';
import { outboxTopics } from '#shared/resources.ts';
import { enqueueOutbox } from './outbox.ts';
import type { RenditionRow, VideoRow } from './schema.ts';
import { type Db, sql } from './sql.ts';
import { toRecord } from './videos.ts';

/**
 * Writes a domain event into the outbox, in the caller's transaction: the change and the event about it
 * commit together or not at all (core/events.ts).
 */
export async function recordEvent(tx: Db, event: OutboxEvent): Promise<void> {
  await enqueueOutbox(tx, outboxTopics.event, event);
}

/**
 * A video event from the row the change returned; a ready video's renditions and caption tracks are read
 * in the same transaction.
 */
export async function recordVideoEvent(
  tx: Db,
  type: VideoEventType,
  row: VideoRow,
  renditions?: Rendition[],
): Promise<void> {
  const known =
    renditions ??
    (row.status === 'ready'
      ? (
          await tx.all<RenditionRow>(
            sql`select * from renditions where video_id = ${row.id} order by height desc`,
          )
        ).map((r) => ({
          name: r.name,
          width: r.width,
          height: r.height,
          bitrate: r.bitrate,
          codecs: r.codecs,
          playlistKey: r.playlist_key,
        }))
      : []);
  const captions =
    row.status === 'ready'
      ? await tx.all<{ id: string; language: string; label: string }>(
          sql`select id, language, label from captions where video_id = ${row.id} and status = 'ready'
              order by created_at, id`,
        )
      : [];
  await recordEvent(tx, videoEvent(type, toRecord(row, known, captions)));
  // A video that just became ready gets its derivatives (storyboard, downloads) made: same transaction.
  if (type === 'video.ready') await enqueueOutbox(tx, outboxTopics.derivatives, { videoId: row.id });
}

export async function recordUploadEvent(
  tx: Db,
  type: 'upload.aborted' | 'upload.expired',
  upload: UploadView,
  ownerId: string,
): Promise<void> {
  await recordEvent(tx, uploadEvent(type, upload, ownerId));
}
