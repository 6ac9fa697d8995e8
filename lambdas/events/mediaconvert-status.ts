import type { EventBridgeEvent } from 'aws-lambda';
import * as z from 'zod';
import { VideoMedia } from '#adapters/media-objects.ts';
import { mediaConvertKeys } from '#adapters/mediaconvert.ts';
import { pipelineStore } from '#adapters/pipeline-store.ts';
import { type MediaConvertOutcome, settleMediaConvertJob } from '#core/pipeline.ts';
import { config } from '#shared/config.ts';
import { logger } from '#shared/logger.ts';
import { JOB_METADATA_STAGE } from '#shared/resources.ts';

/**
 * EventBridge "MediaConvert Job State Change" (COMPLETE or ERROR) -> here: the long-video path's end.
 * The rule already selects this stage's jobs; the handler checks again (and ignores what is not ours),
 * so a rule widened by mistake cannot settle another deployment's videos. Settling is conditional on
 * the video still processing, so EventBridge's at-least-once delivery is harmless.
 */
const JobStateChange = z.object({
  jobId: z.string().min(1),
  status: z.enum(['COMPLETE', 'ERROR']),
  errorCode: z.number().optional(),
  errorMessage: z.string().optional(),
  userMetadata: z.record(z.string(), z.string()).default({}),
});

export const handler = async (event: EventBridgeEvent<'MediaConvert Job State Change', unknown>) => {
  const parsed = JobStateChange.safeParse(event.detail);
  if (!parsed.success) {
    logger.warn('ignored: not a final MediaConvert job state', { id: event.id });
    return;
  }
  const { jobId, status, userMetadata } = parsed.data;
  const videoId = z.uuid().safeParse(userMetadata.videoId);
  if (userMetadata[JOB_METADATA_STAGE] !== config().stage || !videoId.success) {
    logger.warn('ignored: job of another deployment', { jobId });
    return;
  }
  const outcome: MediaConvertOutcome =
    status === 'COMPLETE'
      ? { status, videoId: videoId.data, jobId }
      : {
          status,
          videoId: videoId.data,
          jobId,
          errorCode: parsed.data.errorCode,
          errorMessage: parsed.data.errorMessage,
        };
  const media = new VideoMedia();
  const result = await settleMediaConvertJob(
    {
      store: await pipelineStore(),
      removeMedia: async (id) => {
        await media.removeAll(id);
      },
    },
    outcome,
    mediaConvertKeys(videoId.data),
  );
  logger.info('MediaConvert job settled', { jobId, videoId: videoId.data, status, result });
};
