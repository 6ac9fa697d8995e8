import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { MediaRejectedError } from '#core/media/errors.ts';
import type { SourceObjects } from '#core/pipeline.ts';
import { config } from '#shared/config.ts';
import { objectKeys } from '#shared/resources.ts';
import { s3Client } from './aws.ts';
import type { StoredObject } from './object-fence.ts';
import { deletePrefix, isExistingObject, isMissingObject, objectSize } from './objects.ts';

export const SOURCE_GONE_REASON = 'the uploaded file is no longer in storage; upload the video again';

/** Uploaded sources in the uploads bucket, as the pipeline reads them. */
export class UploadedSources implements SourceObjects {
  private readonly bucket = config().uploadsBucket;

  size(key: string): Promise<number | undefined> {
    return objectSize(this.bucket, key);
  }

  /**
   * The source as an object fence reads it (object-fence.ts): its size and ETag, then ranged GETs of that
   * revision only. A source that is gone is the upload's loss, not a tool failure.
   */
  stored(key: string): StoredObject {
    const bucket = this.bucket;
    return {
      async head() {
        try {
          const head = await s3Client().send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
          return { size: head.ContentLength ?? 0, etag: head.ETag };
        } catch (error) {
          if (isMissingObject(error)) throw new MediaRejectedError(SOURCE_GONE_REASON);
          throw error;
        }
      },
      async read(start, end, etag, signal) {
        const object = await s3Client().send(
          new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end}`, IfMatch: etag }),
          { abortSignal: signal },
        );
        if (!object.Body) throw new Error(`no body for s3://${bucket}/${key}`);
        return object.Body.transformToByteArray();
      },
    };
  }

  async remove(key: string): Promise<void> {
    await s3Client().send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }
}

/**
 * How each kind of HLS output is served. Segments, init segments and images never change under their
 * key once a video is ready, so caches may keep them for good; playlists get a short life so that a
 * fix (re-encode to the same keys by an operator) shows within minutes.
 */
const MEDIA_TYPES: Record<string, { contentType: string; cacheControl: string }> = {
  '.m3u8': { contentType: 'application/vnd.apple.mpegurl', cacheControl: 'public, max-age=300' },
  '.m4s': { contentType: 'video/iso.segment', cacheControl: 'public, max-age=31536000, immutable' },
  '.mp4': { contentType: 'video/mp4', cacheControl: 'public, max-age=31536000, immutable' },
  '.jpg': { contentType: 'image/jpeg', cacheControl: 'public, max-age=31536000, immutable' },
  '.vtt': { contentType: 'text/vtt; charset=utf-8', cacheControl: 'public, max-age=300' },
};

interface PutOptions {
  /** Create the object only if the key holds none (S3's conditional write, `If-None-Match: *`). */
  ifAbsent?: boolean;
}

/** Parallel PUTs per directory: enough to fill a Lambda's network link with 4 s segments. */
const UPLOAD_CONCURRENCY = 8;

/** The media bucket under videos/{id}/: what the CDN serves. */
export class VideoMedia {
  private readonly bucket = config().mediaBucket;

  key(videoId: string, relative: string): string {
    return `${objectKeys.mediaPrefix(videoId)}${relative}`;
  }

  async putFile(file: string, key: string, options?: PutOptions): Promise<boolean> {
    return this.put(key, await readFile(file), options);
  }

  /**
   * Publishes bytes under a key, typed and cached by the key's extension. With `ifAbsent` the object is
   * only created, never replaced: false means the key was taken already (and nothing was written).
   */
  async put(key: string, body: Uint8Array | string, options: PutOptions = {}): Promise<boolean> {
    const type = MEDIA_TYPES[path.extname(key).toLowerCase()];
    if (!type) throw new Error(`refusing to publish ${path.basename(key)}: not a media output type`);
    try {
      await s3Client().send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: type.contentType,
          CacheControl: type.cacheControl,
          ...(options.ifAbsent ? { IfNoneMatch: '*' } : {}),
        }),
      );
      return true;
    } catch (error) {
      if (options.ifAbsent && isExistingObject(error)) return false;
      throw error;
    }
  }

  /** An object's text, or undefined when there is none. */
  async readText(key: string): Promise<string | undefined> {
    try {
      const object = await s3Client().send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return await object.Body?.transformToString('utf-8');
    } catch (error) {
      if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
      throw error;
    }
  }

  async remove(keys: readonly string[]): Promise<void> {
    for (const key of keys) await s3Client().send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  /**
   * Publishes one rendition's directory: segments and init first, its playlist last, so a playlist in
   * the bucket only ever names segments that are already there.
   */
  async putRendition(directory: string, keyPrefix: string): Promise<void> {
    const names = await readdir(directory);
    const playlists = names.filter((name) => name.endsWith('.m3u8'));
    const rest = names.filter((name) => !name.endsWith('.m3u8') && !name.endsWith('.tmp'));
    for (let i = 0; i < rest.length; i += UPLOAD_CONCURRENCY) {
      await Promise.all(
        rest
          .slice(i, i + UPLOAD_CONCURRENCY)
          .map((name) => this.putFile(path.join(directory, name), `${keyPrefix}${name}`)),
      );
    }
    for (const name of playlists) await this.putFile(path.join(directory, name), `${keyPrefix}${name}`);
  }

  async removeAll(videoId: string): Promise<number> {
    return deletePrefix(this.bucket, objectKeys.mediaPrefix(videoId));
  }
}
