import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { CaptionUploads } from '#core/captions.ts';
import { config } from '#shared/config.ts';
import { objectKeys } from '#shared/resources.ts';
import { presigningS3Client, s3Client } from './aws.ts';
import { objectSize } from './objects.ts';

/** Caption files in the uploads bucket: the owner's PUT, and what the worker reads back. */
export class CaptionSources implements CaptionUploads {
  private readonly bucket = config().uploadsBucket;

  /**
   * The exact length is signed into the URL, so storage refuses any other size: a caption can never be
   * larger than what the API accepted (2 MiB at most).
   */
  async signUpload(videoId: string, captionId: string, size: number, expiresIn: number) {
    const url = await getSignedUrl(
      presigningS3Client(),
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: objectKeys.captionSource(videoId, captionId),
        ContentLength: size,
      }),
      { expiresIn, signableHeaders: new Set(['content-length']) },
    );
    return { url, headers: {} };
  }

  /** The file, or undefined when it is gone; refuses to read more than `maxBytes`. */
  async read(key: string, maxBytes: number): Promise<Uint8Array | undefined | 'too-large'> {
    const size = await objectSize(this.bucket, key);
    if (size === undefined) return undefined;
    if (size > maxBytes) return 'too-large';
    const object = await s3Client().send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    return object.Body?.transformToByteArray();
  }
}
