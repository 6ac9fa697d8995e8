import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListPartsCommand,
  NoSuchUpload,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl, S3RequestPresigner } from '@aws-sdk/s3-request-presigner';
import type { MultipartStorage, StoredPart } from '#core/uploads.ts';
import { config } from '#shared/config.ts';
import { presigningS3Client, s3Client } from './aws.ts';
import { objectSize } from './objects.ts';

/** Multipart uploads into the uploads bucket, for the API's upload routes. */
export class S3MultipartStorage implements MultipartStorage {
  private readonly bucket = config().uploadsBucket;

  async create(key: string, contentType: string): Promise<string> {
    const result = await s3Client().send(
      new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, ContentType: contentType }),
    );
    if (!result.UploadId) throw new Error('S3 returned no UploadId');
    return result.UploadId;
  }

  /**
   * The part's exact length is signed into the URL (X-Amz-SignedHeaders includes content-length), so
   * storage refuses a PUT of any other size: the declared size is enforced part by part, not only at
   * completion. The URL also names its upload and part number, so it cannot be re-aimed.
   *
   * `getSignedUrl` resolves the endpoint rules on every call, which caps it at a few thousand URLs a
   * second; a 10,000-part upload deserves better. So the SDK resolves the bucket's endpoint once (by
   * presigning one URL), and each part URL is then signed by the SDK's own S3 presigner against that
   * endpoint. The result is byte-identical to getSignedUrl's (a unit test holds us to it).
   */
  async signPart(
    key: string,
    storageUploadId: string,
    partNumber: number,
    contentLength: number,
    expiresIn: number,
    signingDate?: Date,
  ): Promise<string> {
    const { presigner, endpoint } = await this.partSigner();
    const signed = await presigner.presign(
      {
        method: 'PUT',
        protocol: endpoint.protocol,
        hostname: endpoint.hostname,
        ...(endpoint.port ? { port: Number(endpoint.port) } : {}),
        path: `${endpoint.pathPrefix}/${key.split('/').map(encodeRfc3986).join('/')}`,
        query: { partNumber: String(partNumber), uploadId: storageUploadId, 'x-id': 'UploadPart' },
        headers: { host: endpoint.host, 'content-length': String(contentLength) },
      },
      { expiresIn, signableHeaders: new Set(['content-length']), ...(signingDate ? { signingDate } : {}) },
    );
    const query = Object.entries(signed.query ?? {})
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .flatMap(([name, value]) =>
        (Array.isArray(value) ? value : [value]).map(
          (v) => `${encodeRfc3986(name)}=${encodeRfc3986(String(v))}`,
        ),
      )
      .join('&');
    return `${endpoint.protocol}//${endpoint.host}${signed.path}?${query}`;
  }

  private signer?: Promise<{ presigner: S3RequestPresigner; endpoint: ResolvedEndpoint }>;

  private partSigner() {
    this.signer ??= (async () => {
      const client = presigningS3Client();
      const probeKey = 'endpoint-probe';
      const probe = new URL(
        await getSignedUrl(
          client,
          new UploadPartCommand({ Bucket: this.bucket, Key: probeKey, UploadId: 'x', PartNumber: 1 }),
          {
            expiresIn: 60,
          },
        ),
      );
      return {
        presigner: new S3RequestPresigner({ ...client.config }),
        endpoint: {
          protocol: probe.protocol,
          hostname: probe.hostname,
          port: probe.port,
          host: probe.host,
          pathPrefix: probe.pathname.slice(0, -(probeKey.length + 1)),
        },
      };
    })();
    return this.signer;
  }

  /** The SDK's own per-URL path, kept for comparison (tests, bench/presign). */
  signPartWithSdk(
    key: string,
    storageUploadId: string,
    partNumber: number,
    contentLength: number,
    expiresIn: number,
    signingDate?: Date,
  ) {
    return getSignedUrl(
      presigningS3Client(),
      new UploadPartCommand({
        Bucket: this.bucket,
        Key: key,
        UploadId: storageUploadId,
        PartNumber: partNumber,
        ContentLength: contentLength,
      }),
      { expiresIn, signableHeaders: new Set(['content-length']), ...(signingDate ? { signingDate } : {}) },
    );
  }

  async listParts(key: string, storageUploadId: string): Promise<StoredPart[] | undefined> {
    const parts: StoredPart[] = [];
    let marker: string | undefined;
    try {
      do {
        const page = await s3Client().send(
          new ListPartsCommand({
            Bucket: this.bucket,
            Key: key,
            UploadId: storageUploadId,
            PartNumberMarker: marker,
          }),
        );
        for (const part of page.Parts ?? []) {
          if (part.PartNumber && part.ETag)
            parts.push({ partNumber: part.PartNumber, size: part.Size ?? 0, etag: part.ETag });
        }
        marker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
      } while (marker);
    } catch (error) {
      if (error instanceof NoSuchUpload || (error as { name?: string }).name === 'NoSuchUpload')
        return undefined;
      throw error;
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  async complete(
    key: string,
    storageUploadId: string,
    parts: StoredPart[],
  ): Promise<'completed' | 'gone' | 'parts-changed'> {
    try {
      await s3Client().send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: storageUploadId,
          MultipartUpload: { Parts: parts.map((part) => ({ PartNumber: part.partNumber, ETag: part.etag })) },
        }),
      );
      return 'completed';
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (error instanceof NoSuchUpload || name === 'NoSuchUpload') return 'gone';
      if (name === 'InvalidPart' || name === 'InvalidPartOrder' || name === 'EntityTooSmall')
        return 'parts-changed';
      throw error;
    }
  }

  async abort(key: string, storageUploadId: string): Promise<void> {
    try {
      await s3Client().send(
        new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: storageUploadId }),
      );
    } catch (error) {
      if (!(error instanceof NoSuchUpload) && (error as { name?: string }).name !== 'NoSuchUpload')
        throw error;
    }
  }

  objectSize(key: string): Promise<number | undefined> {
    return objectSize(this.bucket, key);
  }
}

interface ResolvedEndpoint {
  protocol: string;
  hostname: string;
  port: string;
  host: string;
  pathPrefix: string;
}

/** URI encoding as SigV4 and S3 want it: encodeURIComponent plus !'()* escaped. */
function encodeRfc3986(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}
