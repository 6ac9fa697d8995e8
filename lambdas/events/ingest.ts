import { makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { idempotencyConfig, idempotencyStore } from '#adapters/idempotency.ts';
import { malwareScanner } from '#adapters/malware.ts';
import { UploadedSources } from '#adapters/media-objects.ts';
import { inspectStoredSource, probeStoredSource } from '#adapters/media-transcoder.ts';
import { startMediaConvertJob } from '#adapters/mediaconvert.ts';
import { pipelineStore } from '#adapters/pipeline-store.ts';
import { retryAfter, sendToQueue } from '#adapters/queue.ts';
import { type CreatedObject, createdObjects, videoIdOfSourceKey } from '#core/ingest.ts';
import { failAfterLastAttempt, type IngestPorts, ingestSource, RetryLaterError } from '#core/pipeline.ts';
import { config } from '#shared/config.ts';
import { logger } from '#shared/logger.ts';
import { decodeS3Key } from '#shared/s3-keys.ts';
import { isLastAttempt, receiveCount, waitBeforeRetrySeconds } from './attempts.ts';
import { queueConsumers } from './consumers.ts';
import { processSqsBatch } from './sqs-batch.ts';

/**
 * S3 ObjectCreated -> SQS -> here: scan, probe the object through a loopback fence (ranged reads),
 * validate, check its content backs what it declares (core/media/work.ts), plan the ladder, and
 * hand the video to ffmpeg (transcode queue) or MediaConvert (long sources). S3 may deliver an event
 * twice or out of order: each write of a key is processed once (Powertools idempotency on bucket + key +
 * revision), and the video's own status guards the rest (only a `processing` video moves on).
 */
const idempotency = idempotencyConfig('[bucket, key, revision]');

async function ports(): Promise<IngestPorts> {
  const { transcoding } = config();
  return {
    store: await pipelineStore(),
    sources: new UploadedSources(),
    scanner: malwareScanner(),
    probe: probeStoredSource,
    inspectVideo: inspectStoredSource,
    enqueueTranscode: (videoId, job) =>
      sendToQueue('transcode', job === undefined ? { videoId } : { videoId, job }),
    planTranscodeJobs: async (videoId, chunks) => (await pipelineStore()).planJobs(videoId, chunks),
    ...(transcoding.mediaConvertRoleArn ? { startMediaConvert: startMediaConvertJob } : {}),
    log: (message, detail) => logger.info(message, detail),
  };
}

const ingestObject = makeIdempotent(
  async (object: CreatedObject) => {
    const { uploadsBucket, transcoding } = config();
    return ingestSource(await ports(), object, uploadsBucket, {
      maxSourceSeconds: transcoding.maxSourceSeconds,
      ffmpegMaxSeconds: transcoding.ffmpegMaxSeconds,
      chunking: {
        chunkSeconds: transcoding.chunkSeconds,
        audioChunkSeconds: transcoding.audioChunkSeconds,
        maxChunks: transcoding.maxChunks,
        rungGroups: transcoding.rungGroups,
      },
    });
  },
  { persistenceStore: idempotencyStore('ingest'), config: idempotency },
);

async function ingestRecord(record: SQSRecord): Promise<void> {
  for (const object of createdObjects(record.body, decodeS3Key)) {
    try {
      const result = await ingestObject(object);
      logger.info('ingested', { key: object.key, revision: object.revision, ...result });
    } catch (error) {
      const videoId = videoIdOfSourceKey(object.key);
      const attempts = receiveCount(record);
      logger.warn('ingest attempt failed', { key: object.key, attempts, error });
      if (videoId && isLastAttempt(record, queueConsumers.ingest)) {
        await failAfterLastAttempt(await pipelineStore(), videoId, 'ingest', attempts, error);
      } else if (error instanceof RetryLaterError) {
        await retryAfter('ingest', record.receiptHandle, waitBeforeRetrySeconds(record)).catch(
          (cause: unknown) => logger.warn('could not shorten the wait; the queue timeout applies', { cause }),
        );
      }
      throw error;
    }
  }
}

export const handler = async (event: SQSEvent, context: Context) => {
  idempotency.registerLambdaContext(context);
  return processSqsBatch(event, context, ingestRecord);
};
