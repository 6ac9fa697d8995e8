import { DeleteObjectsCommand, HeadObjectCommand, ListObjectsV2Command, NotFound } from '@aws-sdk/client-s3';
import { s3Client } from './aws.ts';

/** Deletes every object under a prefix, a page (up to 1,000 keys) at a time. Returns how many went. */
export async function deletePrefix(bucket: string, prefix: string): Promise<number> {
  let deleted = 0;
  let token: string | undefined;
  do {
    const page = await s3Client().send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    const keys = (page.Contents ?? []).flatMap((object) => (object.Key ? [{ Key: object.Key }] : []));
    if (keys.length > 0) {
      const result = await s3Client().send(
        new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }),
      );
      if (result.Errors?.length) {
        throw new Error(
          `could not delete ${result.Errors.length} object(s) under ${prefix}: ${result.Errors[0]?.Code}`,
        );
      }
      deleted += keys.length;
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return deleted;
}

/** An object's size in bytes, or undefined when there is no such object. */
export async function objectSize(bucket: string, key: string): Promise<number | undefined> {
  try {
    const head = await s3Client().send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return head.ContentLength;
  } catch (error) {
    if (isMissingObject(error)) return undefined;
    throw error;
  }
}

/** HeadObject's NotFound, GetObject's NoSuchKey, or any 404 from S3. */
export function isMissingObject(error: unknown): boolean {
  return (
    error instanceof NotFound ||
    (error as { name?: string }).name === 'NoSuchKey' ||
    (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404
  );
}

/**
 * A conditional write that lost: a create-only PUT (`If-None-Match: *`) found the key taken (412), or
 * raced another creator of it (409 ConditionalRequestConflict).
 */
export function isExistingObject(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const name = (error as { name?: string }).name;
  return (
    name === 'PreconditionFailed' || name === 'ConditionalRequestConflict' || status === 412 || status === 409
  );
}
