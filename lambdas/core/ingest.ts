import * as z from 'zod';

/**
 * Reading S3 "object created" notifications as they arrive through SQS. S3 delivers at least once and
 * not always in order; the `sequencer` orders events for one key. Keys arrive URL-encoded.
 */
const S3Record = z.object({
  eventName: z.string(),
  s3: z.object({
    bucket: z.object({ name: z.string() }),
    object: z.object({
      key: z.string(),
      size: z.number().optional(),
      eTag: z.string().optional(),
      versionId: z.string().optional(),
      sequencer: z.string().optional(),
    }),
  }),
});
const S3Notification = z.object({ Records: z.array(S3Record) });
// Sent once when the notification is configured; carries nothing to do.
const S3TestEvent = z.object({ Event: z.literal('s3:TestEvent') }).loose();

export interface CreatedObject {
  bucket: string;
  key: string;
  size: number | undefined;
  /** Identifies this write of the key: version id when versioned, else the event sequencer. */
  revision: string;
}

export function createdObjects(body: string, decodeKey: (key: string) => string): CreatedObject[] {
  const json: unknown = JSON.parse(body);
  if (S3TestEvent.safeParse(json).success) return [];
  return S3Notification.parse(json)
    .Records.filter((record) => record.eventName.startsWith('ObjectCreated:'))
    .map((record) => ({
      bucket: record.s3.bucket.name,
      key: decodeKey(record.s3.object.key),
      size: record.s3.object.size,
      revision:
        record.s3.object.versionId ?? record.s3.object.sequencer ?? record.s3.object.eTag ?? 'unknown',
    }));
}

const SOURCE_KEY = /^uploads\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/source$/;

/** The video an uploaded source belongs to, or undefined for any other key. */
export function videoIdOfSourceKey(key: string): string | undefined {
  return SOURCE_KEY.exec(key)?.[1];
}

/** A size mismatch as a reason a person can act on. */
export function sizeMismatchReason(actual: number, declared: number): string {
  return `the uploaded file is ${actual} bytes but the upload declared ${declared}; upload the file again`;
}
