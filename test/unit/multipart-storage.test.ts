/**
 * The S3 side of uploads, for the answers the local S3 never gives: listings past 1,000 parts, throttling,
 * and uploads that vanished. S3 itself is mocked here (aws-sdk-client-mock); the happy paths run against
 * the local S3 in test/integration/uploads.test.ts.
 */
import {
  AbortMultipartUploadCommand,
  HeadObjectCommand,
  ListPartsCommand,
  NoSuchUpload,
  NotFound,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { beforeEach, describe, expect, it } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';

Object.assign(process.env, {
  UPLOADS_BUCKET: 'videocloud-uploads-test',
  MEDIA_BUCKET: 'videocloud-media-test',
  STATE_TABLE: 'videocloud-state-test',
  COGNITO_USER_POOL_ID: 'eu-west-1_test',
  COGNITO_CLIENT_ID: 'test',
});
const { S3MultipartStorage } = await import('#adapters/multipart.ts');

const s3 = mockClient(S3Client);
const key = 'uploads/0b4f6f0e-2a4e-4a3e-9a7e-8f8a2f9b1c3d/source';
const noSuchUpload = () =>
  new NoSuchUpload({ message: 'The specified upload does not exist', $metadata: {} });

describe('S3MultipartStorage', () => {
  const storage = new S3MultipartStorage();
  beforeEach(() => {
    s3.reset();
  });

  it('lists every part of a 2,500-part upload, page by page, in order', async () => {
    const page = (from: number, to: number, truncated: boolean) => ({
      Parts: Array.from({ length: to - from + 1 }, (_, i) => ({
        PartNumber: from + i,
        Size: 8 << 20,
        ETag: `"e${from + i}"`,
      })).reverse(),
      IsTruncated: truncated,
      NextPartNumberMarker: truncated ? String(to) : undefined,
    });
    s3.on(ListPartsCommand)
      .resolvesOnce(page(1, 1000, true))
      .resolvesOnce(page(1001, 2000, true))
      .resolvesOnce(page(2001, 2500, false));
    const parts = await storage.listParts(key, 'upload-1');
    expect(parts).toHaveLength(2500);
    expect(parts!.map((p) => p.partNumber)).toEqual(Array.from({ length: 2500 }, (_, i) => i + 1));
    const markers = s3.commandCalls(ListPartsCommand).map((call) => call.args[0].input.PartNumberMarker);
    expect(markers).toEqual([undefined, '1000', '2000']);
  });

  it('answers "no such upload" as undefined, and passes other errors on', async () => {
    const slowDown = new S3ServiceException({
      name: 'SlowDown',
      $fault: 'server',
      message: 'Please reduce your request rate.',
      $metadata: { httpStatusCode: 503 },
    });
    s3.on(ListPartsCommand).rejectsOnce(noSuchUpload()).rejectsOnce(slowDown);
    expect(await storage.listParts(key, 'gone')).toBeUndefined();
    await expect(storage.listParts(key, 'busy')).rejects.toThrow('Please reduce your request rate.');
  });

  it('treats aborting an upload that is already gone as done', async () => {
    s3.on(AbortMultipartUploadCommand).rejectsOnce(noSuchUpload()).rejectsOnce(new Error('network down'));
    await expect(storage.abort(key, 'gone')).resolves.toBeUndefined();
    await expect(storage.abort(key, 'x')).rejects.toThrow('network down');
  });

  it('reports a missing object as undefined, not an error', async () => {
    s3.on(HeadObjectCommand)
      .rejectsOnce(new NotFound({ message: 'Not Found', $metadata: { httpStatusCode: 404 } }))
      .resolvesOnce({ ContentLength: 42 });
    expect(await storage.objectSize(key)).toBeUndefined();
    expect(await storage.objectSize(key)).toBe(42);
  });
});
