import type { Selectable, Transaction } from 'kysely';
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
import type { Database, VideosTable } from './schema.ts';
import { toRecord } from './videos.ts';

/**
 * Writes a domain event into the outbox, in the caller's transaction: the change and the event about it
 * commit together or not at all (core/events.ts).
 */
export async function recordEvent(tx: Transaction<Database>, event: OutboxEvent): Promise<void> {
  await enqueueOutbox(tx, outboxTopics.event, event);
}

/**
 * A video event from the row the change returned; a ready video's renditions and caption tracks are read
 * in the same transaction.
 */
export async function recordVideoEvent(
  tx: Transaction<Database>,
  type: VideoEventType,
  row: Selectable<VideosTable>,
  renditions?: Rendition[],
): Promise<void> {
  const known =
    renditions ??
    (row.status === 'ready'
      ? (
          await tx
            .selectFrom('renditions')
            .selectAll()
            .where('video_id', '=', row.id)
            .orderBy('height', 'desc')
            .execute()
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
      ? await tx
          .selectFrom('captions')
          .select(['id', 'language', 'label'])
          .where('video_id', '=', row.id)
          .where('status', '=', 'ready')
          .orderBy('created_at')
          .orderBy('id')
          .execute()
      : [];
  await recordEvent(tx, videoEvent(type, toRecord(row, known, captions)));
  // A video that just became ready gets its derivatives (storyboard, downloads) made: same transaction.
  if (type === 'video.ready') await enqueueOutbox(tx, outboxTopics.derivatives, { videoId: row.id });
}

export async function recordUploadEvent(
  tx: Transaction<Database>,
  type: 'upload.aborted' | 'upload.expired',
  upload: UploadView,
  ownerId: string,
): Promise<void> {
  await recordEvent(tx, uploadEvent(type, upload, ownerId));
}
