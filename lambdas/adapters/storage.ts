import { config } from '#shared/config.ts';
import { s3Call } from './s3-rest.ts';

/** Storage is healthy when both buckets answer HeadBucket with our credentials (signed calls, s3-rest.ts). */
export async function pingStorage(): Promise<void> {
  const { uploadsBucket, mediaBucket } = config();
  await Promise.all([uploadsBucket, mediaBucket].map((bucket) => s3Call('HEAD', { bucket })));
}
