import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { CleanupVideos } from '#adapters/db/cleanup.ts';
import { db } from '#adapters/db/index.ts';
import { deletePrefix } from '#adapters/objects.ts';
import { config } from '#shared/config.ts';
import { logger } from '#shared/logger.ts';
import { objectKeys } from '#shared/resources.ts';
import { processSqsBatch } from './sqs-batch.ts';

/**
 * Removes a deleted video's objects: its source under uploads/{id}/ and its HLS ladder and images under
 * videos/{id}/. Idempotent (deleting what is already gone is a no-op), so a redelivered message is
 * harmless; a record that fails is reported alone and retried, then dead-lettered.
 */
const Message = z.object({ videoId: z.uuid() });

async function removeMedia(record: SQSRecord): Promise<void> {
  const { videoId } = Message.parse(JSON.parse(record.body));
  const videos = new CleanupVideos(await db());
  if (await videos.isLive(videoId)) {
    // Never remove a live video's media, whatever a message says.
    logger.warn('cleanup refused: video is not deleted', { videoId });
    return;
  }
  const { uploadsBucket, mediaBucket } = config();
  const removed =
    (await deletePrefix(uploadsBucket, `${objectKeys.uploadsPrefix}${videoId}/`)) +
    (await deletePrefix(mediaBucket, objectKeys.mediaPrefix(videoId)));
  await videos.markMediaRemoved(videoId);
  logger.info('media removed', { videoId, objects: removed });
}

export const handler = async (event: SQSEvent, context: Context) =>
  processSqsBatch(event, context, removeMedia);
