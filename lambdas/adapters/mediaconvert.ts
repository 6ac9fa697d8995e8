import { CreateJobCommand, MediaConvertClient } from '@aws-sdk/client-mediaconvert';
import type { MediaConvertKeys, MediaConvertRequest } from '#core/pipeline.ts';
import { config } from '#shared/config.ts';
import { JOB_METADATA_STAGE, objectKeys } from '#shared/resources.ts';
import { buildMediaConvertJob, mediaConvertOutputUris } from './mediaconvert-job.ts';

let client: MediaConvertClient | undefined;

/** MediaConvert's regional endpoint (account-specific endpoints are no longer needed). */
function mediaConvert(): MediaConvertClient {
  client ??= new MediaConvertClient({ region: config().region });
  return client;
}

/**
 * Starts the MediaConvert job for a long source. The client request token is derived from the source
 * revision, so a redelivered ingest message gets the same job back instead of a second one.
 */
export async function startMediaConvertJob(request: MediaConvertRequest): Promise<string> {
  const { uploadsBucket, mediaBucket, transcoding, stage } = config();
  if (!transcoding.mediaConvertRoleArn) throw new Error('MEDIACONVERT_ROLE_ARN is not set on this function');
  const input = buildMediaConvertJob(request.plan, {
    inputS3Uri: `s3://${uploadsBucket}/${request.sourceKey}`,
    outputS3Prefix: `s3://${mediaBucket}/${objectKeys.mediaPrefix(request.videoId)}`,
    roleArn: transcoding.mediaConvertRoleArn,
    queueArn: transcoding.mediaConvertQueueArn,
    userMetadata: { videoId: request.videoId, [JOB_METADATA_STAGE]: stage },
    clientRequestToken: `${request.videoId}-${request.revision}`.slice(0, 64),
  });
  const { Job } = await mediaConvert().send(new CreateJobCommand(input));
  if (!Job?.Id) throw new Error('MediaConvert CreateJob returned no job id');
  return Job.Id;
}

/** Media-bucket keys of a MediaConvert job's master playlist and poster. */
export function mediaConvertKeys(videoId: string): MediaConvertKeys {
  const prefix = objectKeys.mediaPrefix(videoId);
  const uris = mediaConvertOutputUris(`s3://bucket/${prefix}`);
  const strip = (uri: string) => uri.slice('s3://bucket/'.length);
  return { master: strip(uris.master), poster: strip(uris.poster) };
}
