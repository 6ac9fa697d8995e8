import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { startHeartbeat } from '#adapters/heartbeat.ts';
import { VideoMedia } from '#adapters/media-objects.ts';
import { transcodeFromStorage } from '#adapters/media-transcoder.ts';
import { recordMetrics } from '#adapters/metrics.ts';
import { pipelineStore } from '#adapters/pipeline-store.ts';
import { estimateWork } from '#core/media/work.ts';
import { metricNames } from '#core/metrics.ts';
import { failAfterLastAttempt, type TranscodePorts, transcodeVideo } from '#core/pipeline.ts';
import { config } from '#shared/config.ts';
import { logger } from '#shared/logger.ts';
import { isLastAttempt, receiveCount } from './attempts.ts';
import { queueConsumers } from './consumers.ts';

/**
 * Transcode queue -> here: one planned video per message, through the ffmpeg ladder to the media bucket.
 * A redelivered message for a video that is already ready (or failed, or deleted) does nothing. While it
 * works, a heartbeat holds the message one short lease at a time (consumers.ts `leaseSeconds`): a worker
 * killed mid-transcode leaves the message to reappear within a lease, and the retry rewrites the same
 * keys and finishes. The encode is bounded by the plan's realtime budget (core/media/work.ts) and the
 * time the invocation has left. The last failed attempt fails the video with the cause.
 */
const Message = z.object({ videoId: z.uuid() });
const processor = new BatchProcessor(EventType.SQS);

/** Leave a minute of the invocation for uploading what is left and recording the result. */
const RESERVED_MS = 60_000;
const MIN_ENCODE_MS = 1_000;

async function transcodeRecord(record: SQSRecord, context: Context): Promise<void> {
  const { videoId } = Message.parse(JSON.parse(record.body));
  const store = await pipelineStore();
  const media = new VideoMedia();
  const heartbeat = await startHeartbeat({
    queue: 'transcode',
    receiptHandle: record.receiptHandle,
    leaseSeconds: config().queueLeaseSeconds ?? queueConsumers.transcode.leaseSeconds,
    onError: (error) => logger.warn('could not renew the transcode message lease', { videoId, error }),
  });
  const ports: TranscodePorts = {
    store,
    transcode: async (video) => {
      const budgetMs = estimateWork(video.media.plan, video.media.source).budgetSeconds * 1000;
      const leftMs = context.getRemainingTimeInMillis() - RESERVED_MS;
      const started = performance.now();
      try {
        return await transcodeFromStorage(video, {
          timeoutMs: Math.max(MIN_ENCODE_MS, Math.min(budgetMs, leftMs)),
          signal: heartbeat.signal,
        });
      } finally {
        // Failed attempts cost compute too: every attempt is counted.
        recordMetrics([{ name: metricNames.transcodeSeconds, value: (performance.now() - started) / 1000 }]);
      }
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
    // A worker that lost its message leaves the video to whoever holds it now.
    if (isLastAttempt(record, queueConsumers.transcode) && !heartbeat.signal.aborted) {
      await failAfterLastAttempt(store, videoId, 'transcode', attempts, error);
    }
    throw error;
  } finally {
    await heartbeat.stop();
  }
}

export const handler = async (event: SQSEvent, context: Context) =>
  processPartialResponse(event, (record: SQSRecord) => transcodeRecord(record, context), processor, {
    context,
  });
