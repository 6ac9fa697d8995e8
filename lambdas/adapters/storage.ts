import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { config } from '#shared/config.ts';
import { s3Client } from './aws.ts';

/** Storage is healthy when both buckets answer HeadBucket with our credentials. */
export async function pingStorage(): Promise<void> {
  const { uploadsBucket, mediaBucket } = config();
  await Promise.all(
    [uploadsBucket, mediaBucket].map((bucket) => s3Client().send(new HeadBucketCommand({ Bucket: bucket }))),
  );
}
