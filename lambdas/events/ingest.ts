import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { db } from '#adapters/db/index.ts';
import { PipelineVideos } from '#adapters/db/pipeline.ts';
import { idempotencyConfig, idempotencyStore } from '#adapters/idempotency.ts';
import { S3MultipartStorage } from '#adapters/multipart.ts';
import { sendToQueue } from '#adapters/queue.ts';
import { type CreatedObject, createdObjects, sizeMismatchReason, videoIdOfSourceKey } from '#core/ingest.ts';
import { config } from '#shared/config.ts';
import { logger } from '#shared/logger.ts';
import { decodeS3Key } from '#shared/s3-keys.ts';

/**
 * S3 ObjectCreated -> SQS -> here. Confirms the uploaded source (it exists at the declared size) and
 * hands the video to the transcoding stage. S3 may deliver an event twice or out of order: each write
 * of a key is processed once (Powertools idempotency on bucket + key + version/sequencer), and the
 * video's own status guards the rest (only a `processing` video moves on).
 */
const processor = new BatchProcessor(EventType.SQS);
const idempotency = idempotencyConfig('[bucket, key, revision]');
const storage = new S3MultipartStorage();

const ingestObject = makeIdempotent(
  async (object: CreatedObject): Promise<{ videoId?: string; outcome: string }> => {
    const videoId = videoIdOfSourceKey(object.key);
    if (object.bucket !== config().uploadsBucket || !videoId)
      return { outcome: 'ignored: not an upload source' };
    const videos = new PipelineVideos(await db());
    const video = await videos.find(videoId);
    if (!video || video.deleted_at !== null) return { videoId, outcome: 'ignored: video is gone' };
    if (video.status !== 'processing')
      return { videoId, outcome: `ignored: video is already ${video.status}` };

    const actual = await storage.objectSize(object.key);
    if (actual === undefined) return { videoId, outcome: 'ignored: object is gone' };
    if (actual !== video.source_size) {
      await videos.fail(videoId, sizeMismatchReason(actual, video.source_size ?? 0));
      return { videoId, outcome: 'failed: size mismatch' };
    }
    if (!(await videos.claim(videoId, object.revision)))
      return { videoId, outcome: 'ignored: already taken up' };
    await sendToQueue('transcode', { videoId });
    return { videoId, outcome: 'handed to transcoding' };
  },
  { persistenceStore: idempotencyStore('ingest'), config: idempotency },
);

async function ingestRecord(record: SQSRecord): Promise<void> {
  for (const object of createdObjects(record.body, decodeS3Key)) {
    const result = await ingestObject(object);
    logger.info('ingested', { key: object.key, revision: object.revision, ...result });
  }
}

export const handler = async (event: SQSEvent, context: Context) => {
  idempotency.registerLambdaContext(context);
  return processPartialResponse(event, ingestRecord, processor, { context });
};
