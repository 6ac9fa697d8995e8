import type { CaptionUploads } from '#core/captions.ts';
import { config } from '#shared/config.ts';
import { objectKeys } from '#shared/resources.ts';
import { headObjectSize, presignS3, s3Call } from './s3-rest.ts';

/**
 * Caption files in the uploads bucket: the owner's PUT, and what the worker reads back. Signed S3 calls
 * (s3-rest.ts), so the caption routes carry no S3 client.
 */
export class CaptionSources implements CaptionUploads {
  private readonly bucket = config().uploadsBucket;

  /**
   * The exact length is signed into the URL, so storage refuses any other size: a caption can never be
   * larger than what the API accepted (2 MiB at most).
   */
  async signUpload(videoId: string, captionId: string, size: number, expiresIn: number) {
    const url = await presignS3(
      'PUT',
      {
        bucket: this.bucket,
        key: objectKeys.captionSource(videoId, captionId),
        query: { 'x-id': 'PutObject' },
      },
      { expiresIn, signedHeaders: { 'content-length': String(size) } },
    );
    return { url, headers: {} };
  }

  /** The file, or undefined when it is gone; refuses to read more than `maxBytes`. */
  async read(key: string, maxBytes: number): Promise<Uint8Array | undefined | 'too-large'> {
    const size = await headObjectSize(this.bucket, key);
    if (size === undefined) return undefined;
    if (size > maxBytes) return 'too-large';
    const object = await s3Call('GET', { bucket: this.bucket, key });
    return new Uint8Array(object.body);
  }
}
