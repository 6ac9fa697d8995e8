import { describe, expect, it, jest } from '@jest/globals';

Object.assign(process.env, {
  AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  UPLOADS_BUCKET: 'videocloud-uploads-test',
  MEDIA_BUCKET: 'videocloud-media-test',
  STATE_TABLE: 'videocloud-state-test',
  COGNITO_USER_POOL_ID: 'eu-west-1_test',
  COGNITO_CLIENT_ID: 'test',
  AWS_REGION: 'eu-west-1',
});
// No database variable: presigning opens none, and whatever DATABASE_URL the suite runs with is fine.
const { S3MultipartStorage } = await import('#adapters/multipart.ts');
const { sdkSignPart } = await import('#test/helpers/sdk-presign.ts');

describe('part URL presigning', () => {
  const storage = new S3MultipartStorage();
  const signingDate = new Date('2026-11-24T12:00:00Z');
  const key = 'uploads/0b4f6f0e-2a4e-4a3e-9a7e-8f8a2f9b1c3d/source';

  it("signs exactly what the SDK's getSignedUrl signs", async () => {
    for (const [partNumber, length] of [
      [1, 8 * 1024 * 1024],
      [977, 123],
      [10_000, 5 * 1024 * 1024],
    ] as const) {
      const ours = await storage.signPart(
        key,
        'upload+id/with=odd~chars',
        partNumber,
        length,
        3600,
        signingDate,
      );
      const sdk = await sdkSignPart(key, 'upload+id/with=odd~chars', partNumber, length, 3600, signingDate);
      expect(ours).toBe(sdk);
    }
  });

  it('signs the content length, names its part and upload, carries no checksum, and expires', async () => {
    const url = new URL(await storage.signPart(key, 'abc', 7, 1000, 3600));
    expect(url.hostname).toBe('videocloud-uploads-test.s3.eu-west-1.amazonaws.com');
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;host');
    expect(url.searchParams.get('partNumber')).toBe('7');
    expect(url.searchParams.get('uploadId')).toBe('abc');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('3600');
    expect([...url.searchParams.keys()].some((name) => name.toLowerCase().includes('checksum'))).toBe(false);
  });

  it("signs caption uploads exactly as the SDK's getSignedUrl signs PutObject", async () => {
    const { PutObjectCommand } = await import('@aws-sdk/client-s3');
    const { getSignedUrl } = await import('@aws-sdk/s3-request-presigner');
    const { presigningS3Client } = await import('#adapters/aws.ts');
    const { CaptionSources } = await import('#adapters/caption-objects.ts');
    jest.useFakeTimers({
      now: signingDate,
      doNotFake: ['nextTick', 'setImmediate', 'setTimeout', 'queueMicrotask'],
    });
    try {
      const ours = await new CaptionSources().signUpload(
        '0b4f6f0e-2a4e-4a3e-9a7e-8f8a2f9b1c3d',
        'c1',
        1234,
        900,
      );
      const sdk = await getSignedUrl(
        presigningS3Client(),
        new PutObjectCommand({
          Bucket: 'videocloud-uploads-test',
          Key: new URL(ours.url).pathname.slice(1),
          ContentLength: 1234,
        }),
        { expiresIn: 900, signableHeaders: new Set(['content-length']) },
      );
      expect(ours.url).toBe(sdk);
    } finally {
      jest.useRealTimers();
    }
  });
});
