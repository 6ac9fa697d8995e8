import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { CaptionSources } from '#adapters/caption-objects.ts';
import { PostgresCaptions } from '#adapters/db/captions.ts';
import { db } from '#adapters/db/index.ts';
import { PostgresVideoRepository } from '#adapters/db/videos.ts';
import { UploadedSources, VideoMedia } from '#adapters/media-objects.ts';
import { type CaptionWorkerPorts, processCaption, removeCaption } from '#core/captions.ts';
import { createdObjects } from '#core/ingest.ts';
import { config } from '#shared/config.ts';
import { logger } from '#shared/logger.ts';
import { objectKeys } from '#shared/resources.ts';
import { decodeS3Key } from '#shared/s3-keys.ts';
import { processSqsBatch } from './sqs-batch.ts';

/**
 * The captions queue -> here: S3 ObjectCreated events of uploaded caption files (validate, sanitize,
 * publish, rewrite the master playlist), and `caption.deleted` outbox messages (remove the files, rewrite
 * the master). Every step is safe to repeat; a record that fails is retried alone, then dead-lettered.
 */
const Deleted = z.strictObject({ videoId: z.uuid(), captionId: z.uuid() });
const CAPTION_KEY = /^uploads\/([0-9a-f-]{36})\/captions\/([0-9a-f-]{36})\/caption$/;

async function ports(): Promise<CaptionWorkerPorts> {
  const database = await db();
  const media = new VideoMedia();
  const sources = new CaptionSources();
  const uploads = new UploadedSources();
  return {
    videos: new PostgresVideoRepository(database),
    captions: new PostgresCaptions(database),
    sources: {
      read: (videoId, captionId, maxBytes) =>
        sources.read(objectKeys.captionSource(videoId, captionId), maxBytes),
      remove: (videoId, captionId) => uploads.remove(objectKeys.captionSource(videoId, captionId)),
    },
    media: {
      putTrack: async (videoId, captionId, vtt, playlist) => {
        await media.put(media.key(videoId, objectKeys.captionFile(captionId)), vtt);
        await media.put(media.key(videoId, objectKeys.captionPlaylist(captionId)), playlist);
      },
      removeTrack: (videoId, captionId) =>
        media.remove([
          media.key(videoId, objectKeys.captionPlaylist(captionId)),
          media.key(videoId, objectKeys.captionFile(captionId)),
        ]),
      readMaster: (key) => media.readText(key),
      writeMaster: async (key, text) => {
        await media.put(key, text);
      },
    },
  };
}

async function captionRecord(record: SQSRecord): Promise<void> {
  const body = JSON.parse(record.body) as unknown;
  const deleted = Deleted.safeParse(body);
  const work = await ports();
  if (deleted.success) {
    const outcome = await removeCaption(work, deleted.data.videoId, deleted.data.captionId);
    logger.info('caption removed', { ...deleted.data, outcome });
    return;
  }
  for (const object of createdObjects(record.body, decodeS3Key)) {
    const match = CAPTION_KEY.exec(object.key);
    if (object.bucket !== config().uploadsBucket || !match) continue;
    const [, videoId, captionId] = match as unknown as [string, string, string];
    const outcome = await processCaption(work, videoId, captionId);
    logger.info('caption processed', { videoId, captionId, outcome });
  }
}

export const handler = async (event: SQSEvent, context: Context) =>
  processSqsBatch(event, context, captionRecord);
