import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import { VideoMedia } from '#adapters/media-objects.ts';
import { transcodeFromStorage } from '#adapters/media-transcoder.ts';
import { pipelineStore } from '#adapters/pipeline-store.ts';
import { failAfterLastAttempt, type TranscodePorts, transcodeVideo } from '#core/pipeline.ts';
import { logger } from '#shared/logger.ts';
import { isLastAttempt, receiveCount } from './attempts.ts';
import { queueConsumers } from './consumers.ts';

/**
 * Transcode queue -> here: one planned video per message, through the ffmpeg ladder to the media bucket.
 * A redelivered message for a video that is already ready (or failed, or deleted) does nothing; a worker
 * killed mid-transcode leaves the message to reappear after the visibility timeout, and the retry
 * rewrites the same keys and finishes. The last failed attempt fails the video with the cause.
 */
const Message = z.object({ videoId: z.uuid() });
const processor = new BatchProcessor(EventType.SQS);

/** Leave a minute of the invocation for uploading what is left and recording the result. */
const RESERVED_MS = 60_000;

async function transcodeRecord(record: SQSRecord, context: Context): Promise<void> {
  const { videoId } = Message.parse(JSON.parse(record.body));
  const store = await pipelineStore();
  const media = new VideoMedia();
  const ports: TranscodePorts = {
    store,
    transcode: (video) =>
      transcodeFromStorage(video, Math.max(30_000, context.getRemainingTimeInMillis() - RESERVED_MS)),
    removeMedia: async (id) => {
      await media.removeAll(id);
    },
  };
  try {
    const outcome = await transcodeVideo(ports, videoId);
    logger.info('transcoded', { videoId, outcome });
  } catch (error) {
    const attempts = receiveCount(record);
    logger.error('transcode attempt failed', { videoId, attempts, error });
    if (isLastAttempt(record, queueConsumers.transcode)) {
      await failAfterLastAttempt(store, videoId, 'transcode', attempts, error);
    }
    throw error;
  }
}

export const handler = async (event: SQSEvent, context: Context) =>
  processPartialResponse(event, (record: SQSRecord) => transcodeRecord(record, context), processor, {
    context,
  });
