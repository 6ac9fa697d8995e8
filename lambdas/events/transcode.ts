import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { startHeartbeat } from '#adapters/heartbeat.ts';
import { VideoMedia } from '#adapters/media-objects.ts';
import {
  stitchFromResults,
  transcodeFromStorage,
  transcodeJobFromStorage,
} from '#adapters/media-transcoder.ts';
import { recordMetrics } from '#adapters/metrics.ts';
import { pipelineStore } from '#adapters/pipeline-store.ts';
import type { TranscodePlan } from '#core/media/ladder.ts';
import type { SourceFacts } from '#core/media/probe.ts';
import { estimateWork } from '#core/media/work.ts';
import { metricNames } from '#core/metrics.ts';
import {
  type ChunkTranscodePorts,
  failAfterLastAttempt,
  type TranscodePorts,
  transcodeChunkJob,
  transcodeVideo,
} from '#core/pipeline.ts';
import { config } from '#shared/config.ts';
import { logger } from '#shared/logger.ts';
import { isLastAttempt, receiveCount } from './attempts.ts';
import { queueConsumers } from './consumers.ts';
import { processSqsBatch } from './sqs-batch.ts';

/**
 * Transcode queue -> here: one planned video per message, through the ffmpeg ladder to the media bucket.
 * A redelivered message for a video that is already ready (or failed, or deleted) does nothing. While it
 * works, a heartbeat holds the message one short lease at a time (consumers.ts `leaseSeconds`): a worker
 * killed mid-transcode leaves the message to reappear within a lease, and the retry rewrites the same
 * keys and finishes. The encode is bounded by the plan's realtime budget (core/media/work.ts) and the
 * time the invocation has left. The last failed attempt fails the video with the cause.
 */
/** `job` names one job of a chunked ladder (core/media/chunks.ts); without it, the whole ladder in one run. */
const Message = z.strictObject({ videoId: z.uuid(), job: z.int().min(0).optional() });

/** Leave a minute of the invocation for uploading what is left and recording the result. */
const RESERVED_MS = 60_000;
const MIN_ENCODE_MS = 1_000;

async function transcodeRecord(record: SQSRecord, context: Context): Promise<void> {
  const { videoId, job } = Message.parse(JSON.parse(record.body));
  const store = await pipelineStore();
  const media = new VideoMedia();
  const heartbeat = await startHeartbeat({
    queue: 'transcode',
    receiptHandle: record.receiptHandle,
    leaseSeconds: config().queueLeaseSeconds ?? queueConsumers.transcode.leaseSeconds,
    onError: (error) => logger.warn('could not renew the transcode message lease', { videoId, error }),
  });
  /** The encode's budget (of the seconds it covers), cut to what the invocation has left; every attempt's time is counted. */
  const timed = async <T>(
    plan: TranscodePlan,
    source: SourceFacts,
    encode: (timeoutMs: number) => Promise<T>,
  ) => {
    const budgetMs = estimateWork(plan, source).budgetSeconds * 1000;
    const leftMs = context.getRemainingTimeInMillis() - RESERVED_MS;
    const started = performance.now();
    try {
      return await encode(Math.max(MIN_ENCODE_MS, Math.min(budgetMs, leftMs)));
    } finally {
      recordMetrics([{ name: metricNames.transcodeSeconds, value: (performance.now() - started) / 1000 }]);
    }
  };
  const removeMedia = async (id: string) => {
    await media.removeAll(id);
  };
  const ports: TranscodePorts = {
    store,
    transcode: (video) =>
      timed(video.media.plan, video.media.source, (timeoutMs) =>
        transcodeFromStorage(video, { timeoutMs, signal: heartbeat.signal }),
      ),
    removeMedia,
  };
  const chunkPorts: ChunkTranscodePorts = {
    store,
    jobs: store,
    encode: (video, n) => {
      const { chunks, plan: whole } = video.media;
      // A job's budget is its own seconds': a video chunk's, or the range an audio chunk reads (the
      // poster-only job of a silent source has no audio chunk: the whole plan's).
      const seconds =
        chunks.chunks[n]?.durationSeconds ?? chunks.audioChunks[n - chunks.audioJob]?.readSeconds;
      const plan = seconds === undefined ? whole : { ...whole, sourceDurationSeconds: seconds };
      return timed(plan, video.media.source, (timeoutMs) =>
        transcodeJobFromStorage(video, n, { timeoutMs, signal: heartbeat.signal }),
      );
    },
    stitch: stitchFromResults,
    removeMedia,
  };
  try {
    const outcome =
      job === undefined
        ? await transcodeVideo(ports, videoId)
        : await transcodeChunkJob(chunkPorts, videoId, job);
    logger.info('transcoded', { videoId, job, outcome });
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
  processSqsBatch(event, context, (record) => transcodeRecord(record, context));
