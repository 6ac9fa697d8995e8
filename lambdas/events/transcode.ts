import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { db } from '#adapters/db/index.ts';
import { PipelineVideos } from '#adapters/db/pipeline.ts';
import { VideoMedia } from '#adapters/media-objects.ts';
import { transcodeFromStorage } from '#adapters/media-transcoder.ts';
import { estimateWork } from '#core/media/work.ts';
import { failAfterLastAttempt, type TranscodePorts, transcodeVideo } from '#core/pipeline.ts';
import { logger } from '#shared/logger.ts';
import { isLastAttempt, receiveCount } from './attempts.ts';
import { queueConsumers } from './consumers.ts';

/**
 * Transcode queue -> here: one planned video per message, through the ffmpeg ladder to the media bucket.
 * A redelivered message for a video that is already ready (or failed, or deleted) does nothing; a worker
 * killed mid-transcode leaves the message to reappear after the visibility timeout, and the retry
 * rewrites the same keys and finishes. The encode is bounded by the plan's realtime budget (core/media/work.ts) and the
 * time the invocation has left. The last failed attempt fails the video with the cause.
 */
const Message = z.object({ videoId: z.uuid() });
const processor = new BatchProcessor(EventType.SQS);

/** Leave a minute of the invocation for uploading what is left and recording the result. */
const RESERVED_MS = 60_000;
const MIN_ENCODE_MS = 1_000;

async function transcodeRecord(record: SQSRecord, context: Context): Promise<void> {
  const { videoId } = Message.parse(JSON.parse(record.body));
  const store = new PipelineVideos(await db());
  const media = new VideoMedia();
  const ports: TranscodePorts = {
    store,
    transcode: (video) => {
      const budgetMs = estimateWork(video.media.plan, video.media.source).budgetSeconds * 1000;
      const leftMs = context.getRemainingTimeInMillis() - RESERVED_MS;
      return transcodeFromStorage(video, {
        timeoutMs: Math.max(MIN_ENCODE_MS, Math.min(budgetMs, leftMs)),
      });
    },
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
