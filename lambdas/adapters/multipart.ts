import type { MultipartStorage, StoredPart } from '#core/uploads.ts';
import { config } from '#shared/config.ts';
import { headObjectSize, presignS3, s3Call, xmlEscape, xmlValues } from './s3-rest.ts';

const isNamed = (error: unknown, ...names: string[]) =>
  names.includes((error as { name?: string }).name ?? '');

/**
 * Multipart uploads into the uploads bucket, for the API's upload routes: S3's REST calls signed one by
 * one (s3-rest.ts), so these functions carry no S3 client.
 */
export class S3MultipartStorage implements MultipartStorage {
  private readonly bucket = config().uploadsBucket;

  async create(key: string, contentType: string): Promise<string> {
    const answer = await s3Call(
      'POST',
      { bucket: this.bucket, key, query: { uploads: '' } },
      { headers: { 'content-type': contentType } },
    );
    const [uploadId] = xmlValues(answer.text, 'UploadId');
    if (!uploadId) throw new Error('S3 returned no UploadId');
    return uploadId;
  }

  /**
   * The part's exact length is signed into the URL (X-Amz-SignedHeaders includes content-length), so
   * storage refuses a PUT of any other size: the declared size is enforced part by part, not only at
   * completion. The URL also names its upload and part number, so it cannot be re-aimed. Signing is
   * local (no endpoint rules per URL), so a 10,000-part upload signs fast; the URL is byte-identical to
   * the SDK's getSignedUrl (test/unit/presign.test.ts holds us to it; bench/presign compares speed).
   */
  signPart(
    key: string,
    storageUploadId: string,
    partNumber: number,
    contentLength: number,
    expiresIn: number,
    signingDate?: Date,
  ): Promise<string> {
    return presignS3(
      'PUT',
      {
        bucket: this.bucket,
        key,
        query: { partNumber: String(partNumber), uploadId: storageUploadId, 'x-id': 'UploadPart' },
      },
      {
        expiresIn,
        signedHeaders: { 'content-length': String(contentLength) },
        ...(signingDate ? { signingDate } : {}),
      },
    );
  }

  async listParts(key: string, storageUploadId: string): Promise<StoredPart[] | undefined> {
    const parts: StoredPart[] = [];
    let marker: string | undefined;
    try {
      do {
        const page = await s3Call('GET', {
          bucket: this.bucket,
          key,
          query: { uploadId: storageUploadId, ...(marker ? { 'part-number-marker': marker } : {}) },
        });
        for (const part of xmlValues(page.text, 'Part')) {
          const [partNumber] = xmlValues(part, 'PartNumber');
          const [etag] = xmlValues(part, 'ETag');
          const [size] = xmlValues(part, 'Size');
          if (partNumber && etag)
            parts.push({ partNumber: Number(partNumber), size: Number(size ?? 0), etag });
        }
        const [truncated] = xmlValues(page.text, 'IsTruncated');
        marker = truncated === 'true' ? xmlValues(page.text, 'NextPartNumberMarker')[0] : undefined;
      } while (marker);
    } catch (error) {
      if (isNamed(error, 'NoSuchUpload')) return undefined;
      throw error;
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  async complete(
    key: string,
    storageUploadId: string,
    parts: StoredPart[],
  ): Promise<'completed' | 'gone' | 'parts-changed'> {
    const body =
      '<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      parts
        .map(
          (part) =>
            `<Part><ETag>${xmlEscape(part.etag)}</ETag><PartNumber>${part.partNumber}</PartNumber></Part>`,
        )
        .join('') +
      '</CompleteMultipartUpload>';
    try {
      await s3Call(
        'POST',
        { bucket: this.bucket, key, query: { uploadId: storageUploadId } },
        { headers: { 'content-type': 'application/xml' }, body },
      );
      return 'completed';
    } catch (error) {
      if (isNamed(error, 'NoSuchUpload')) return 'gone';
      if (isNamed(error, 'InvalidPart', 'InvalidPartOrder', 'EntityTooSmall')) return 'parts-changed';
      throw error;
    }
  }

  async abort(key: string, storageUploadId: string): Promise<void> {
    try {
      await s3Call('DELETE', { bucket: this.bucket, key, query: { uploadId: storageUploadId } });
    } catch (error) {
      if (!isNamed(error, 'NoSuchUpload')) throw error;
    }
  }

  objectSize(key: string): Promise<number | undefined> {
    return headObjectSize(this.bucket, key);
  }
}
