import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { S3Event } from 'aws-lambda';
import { encodeS3EventKey } from '#shared/s3-keys.ts';

export type ObjectCreatedEventName =
  | 'ObjectCreated:Put'
  | 'ObjectCreated:Post'
  | 'ObjectCreated:Copy'
  | 'ObjectCreated:CompleteMultipartUpload';

export interface ObjectCreation {
  eventName: ObjectCreatedEventName;
  bucket: string;
  /** The key as stored; it is URL-encoded into the record the way S3 does it. */
  key: string;
  size: number;
  /** Without quotes; for a multipart object the `md5-of-part-md5s-N` form. */
  eTag: string;
  sourceIp: string;
}

/** Stand-ins for the ids S3 puts in every record: fixed per process, like one account and one bucket owner. */
const PRINCIPAL_ID = `AWS:AIDA${randomBytes(8).toString('hex').toUpperCase()}`;
const OWNER_ID = randomBytes(7).toString('hex').toUpperCase();

/**
 * Turns object creations into the records S3 sends to SQS (event version 2.1), one record per event.
 * Each gets a sequencer: fixed-width upper-case hex, like S3's, that only grows, also across restarts,
 * because the last one handed out is kept in `sequencerFile`. S3 promises ordering by sequencer only per
 * key; a single growing counter gives that for every key at once.
 */
export class ObjectCreatedEvents {
  private last: bigint;

  constructor(
    private readonly sequencerFile: string,
    private readonly listener: (event: S3Event) => void,
    private readonly region: string,
  ) {
    this.last = existsSync(sequencerFile) ? BigInt(`0x${readFileSync(sequencerFile, 'utf8').trim()}`) : 0n;
  }

  /** Taken when the write lands, so that a record built later (after a metadata read) still sorts right. */
  nextSequencer(): string {
    // Milliseconds in the high bits keep sequencers growing even if the file is lost; the counter in the
    // low bits keeps them unique within a millisecond and growing if the clock steps back.
    const now = BigInt(Date.now()) << 24n;
    this.last = now > this.last ? now : this.last + 1n;
    const sequencer = this.last.toString(16).toUpperCase().padStart(18, '0');
    writeFileSync(this.sequencerFile, sequencer);
    return sequencer;
  }

  emit(creation: ObjectCreation, sequencer = this.nextSequencer()): void {
    const event: S3Event = {
      Records: [
        {
          eventVersion: '2.1',
          eventSource: 'aws:s3',
          awsRegion: this.region,
          eventTime: new Date().toISOString(),
          eventName: creation.eventName,
          userIdentity: { principalId: PRINCIPAL_ID },
          requestParameters: { sourceIPAddress: creation.sourceIp.replace(/^::ffff:/, '') },
          responseElements: {
            'x-amz-request-id': randomBytes(8).toString('hex').toUpperCase(),
            'x-amz-id-2': randomBytes(48).toString('base64'),
          },
          s3: {
            s3SchemaVersion: '1.0',
            configurationId: 'videocloud-local',
            bucket: {
              name: creation.bucket,
              ownerIdentity: { principalId: OWNER_ID },
              arn: `arn:aws:s3:::${creation.bucket}`,
            },
            object: {
              key: encodeS3EventKey(creation.key),
              size: creation.size,
              eTag: creation.eTag,
              sequencer,
            },
          },
        },
      ],
    };
    // S3 delivers notifications apart from the write: a failing consumer must never fail the upload.
    try {
      this.listener(event);
    } catch (error) {
      console.error('local S3: the ObjectCreated listener threw', error);
    }
  }
}
