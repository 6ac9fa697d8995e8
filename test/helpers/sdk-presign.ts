import { UploadPartCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { presigningS3Client } from '#adapters/aws.ts';
import { config } from '#shared/config.ts';

/**
 * The SDK's own UploadPart URL (getSignedUrl with one shared client, the presigning client's settings):
 * the reference lambdas/adapters/multipart.ts is held byte-identical to (test/unit/presign.test.ts) and
 * the baseline bench/presign measures it against.
 */
export function sdkSignPart(
  key: string,
  storageUploadId: string,
  partNumber: number,
  contentLength: number,
  expiresIn: number,
  signingDate?: Date,
): Promise<string> {
  return getSignedUrl(
    presigningS3Client(),
    new UploadPartCommand({
      Bucket: config().uploadsBucket,
      Key: key,
      UploadId: storageUploadId,
      PartNumber: partNumber,
      ContentLength: contentLength,
    }),
    { expiresIn, signableHeaders: new Set(['content-length']), ...(signingDate ? { signingDate } : {}) },
  );
}
