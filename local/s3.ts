import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import type { S3Event } from 'aws-lambda';
import S3rver, { type S3rverEvent } from 's3rver';
import type { CorsRuleDefinition } from '#shared/resources.ts';
import { decodeAwsChunked } from './s3/aws-chunked.ts';
import { conditionalWrites } from './s3/conditional-writes.ts';
import { corsForExtensions } from './s3/cors.ts';
import { s3ErrorResponses } from './s3/errors.ts';
import { type ObjectCreatedEventName, ObjectCreatedEvents } from './s3/events.ts';
import { multipartOperations } from './s3/multipart.ts';
import { verifyPayloadHash } from './s3/payload.ts';
import { suffixRanges } from './s3/ranges.ts';
import { verifySigV4 } from './s3/sigv4.ts';
import { LOCAL_REGION, type LocalCredentials } from './sigv4.ts';

export const LOCAL_S3_REGION = LOCAL_REGION;

/**
 * An S3 client of a running local server, signing with that server's credentials, for tools and tests
 * that reach storage directly.
 */
export function localS3Client(
  s3: { endpoint: string; credentials: LocalCredentials },
  extra: Partial<S3ClientConfig> = {},
): S3Client {
  return new S3Client({
    endpoint: s3.endpoint,
    region: LOCAL_S3_REGION,
    forcePathStyle: true,
    credentials: s3.credentials,
    ...extra,
  });
}

export interface LocalBucket {
  name: string;
  cors?: CorsRuleDefinition;
}

export interface LocalS3Options {
  directory: string;
  /** The only key pair accepted: every request but a CORS preflight must be SigV4-signed with it. */
  credentials: LocalCredentials;
  buckets: LocalBucket[];
  port?: number;
  /**
   * Called once per object created in any bucket (PUT, POST, copy, multipart completion) with the event
   * S3 would send to SQS: one record, key URL-encoded, sequencer growing per key across restarts.
   */
  onObjectCreated?: (event: S3Event) => void;
}

export interface LocalS3 {
  endpoint: string;
  credentials: LocalCredentials;
  server: S3rver;
  stop(): Promise<void>;
}

const S3RVER_CREATED_EVENTS: Record<string, ObjectCreatedEventName> = {
  'ObjectCreated:Put': 'ObjectCreated:Put',
  'ObjectCreated:Post': 'ObjectCreated:Post',
  'ObjectCreated:Copy': 'ObjectCreated:Copy',
};

/**
 * Starts s3rver on loopback (path-style only) with the buckets (and CORS rules) the CDK app declares,
 * persisted under `directory`. In front of s3rver's own middleware sit the pieces where it falls short of
 * S3 in ways this app would notice: SigV4 verification of every request (and of signed payloads),
 * ListParts / AbortMultipartUpload and a strict
 * CompleteMultipartUpload, aws-chunked bodies, create-only PUTs (`If-None-Match: *`), suffix ranges,
 * CORS headers on errors; and its events are
 * reshaped into S3's real records.
 */
export async function startLocalS3(options: LocalS3Options): Promise<LocalS3> {
  mkdirSync(options.directory, { recursive: true });
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port ?? 0,
    silent: true,
    directory: options.directory,
    resetOnClose: false,
    // Path-style only: a Host header never turns into a bucket name behind the signature check.
    vhostBuckets: false,
    configureBuckets: options.buckets.map((bucket) => ({
      name: bucket.name,
      configs: bucket.cors ? [corsXml(bucket.cors)] : [],
    })),
  });
  const { onObjectCreated } = options;
  // A dot-file in the store's root is never mistaken for a bucket: s3rver lists directories only.
  const events = onObjectCreated
    ? new ObjectCreatedEvents(join(options.directory, '.event-sequencer'), onObjectCreated, LOCAL_S3_REGION)
    : undefined;

  // Koa composes its middleware when the server starts listening, so these must be in place before run().
  server.middleware.unshift(
    s3ErrorResponses(),
    corsForExtensions(server.store),
    verifySigV4(options.credentials),
    verifyPayloadHash(),
    multipartOperations(server.store, (creation) => events?.emit(creation)),
    decodeAwsChunked(),
    conditionalWrites(server.store),
    suffixRanges(server.store),
  );
  if (events) server.on('event', (event: S3rverEvent) => relayS3rverEvent(server, events, event));

  const address = await server.run();
  // The endpoint is named `localhost`, as S3's are names, so the pipeline meets a hostname locally too
  // (ffmpeg never sees it: it reads through a loopback fence). Node may resolve localhost to ::1 first,
  // so the same port answers there as well when this machine has IPv6 loopback; both are loopback only.
  const ipv6 = await listenAlso(server.callback(), '::1', address.port);
  return {
    endpoint: `http://localhost:${address.port}`,
    credentials: options.credentials,
    server,
    stop: async () => {
      if (ipv6?.listening) await new Promise((resolve) => ipv6.close(resolve));
      if (server.httpServer?.listening) await server.close();
    },
  };
}

/** A second listener for the same handler, or undefined when the address is not available here. */
function listenAlso(
  handler: Parameters<typeof createServer>[1],
  host: string,
  port: number,
): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const extra = createServer(handler);
    extra.once('error', () => resolve(undefined));
    extra.listen(port, host, () => resolve(extra));
  });
}

/**
 * s3rver's own events for PUT, POST and copy (multipart completions never reach it) carry the raw key,
 * event version 2.0 and a millisecond sequencer; they are re-issued in S3's shape. A copy's record lacks
 * the ETag, so it is read back from the store, with the sequencer taken first to keep the write's order.
 */
function relayS3rverEvent(server: S3rver, events: ObjectCreatedEvents, event: S3rverEvent): void {
  const record = event.Records[0];
  const eventName = record && S3RVER_CREATED_EVENTS[record.eventName];
  if (!record || !eventName) return;
  const { bucket, object } = record.s3;
  const creation = {
    eventName,
    bucket: bucket.name,
    key: object.key,
    size: object.size ?? 0,
    eTag: object.eTag ?? '',
    sourceIp: record.requestParameters.sourceIPAddress,
  };
  if (object.eTag !== undefined) {
    events.emit(creation);
    return;
  }
  const sequencer = events.nextSequencer();
  server.store.getMetadata(bucket.name, object.key).then(
    (metadata) => events.emit({ ...creation, eTag: JSON.parse(metadata.etag) as string }, sequencer),
    // Overwritten or deleted in between: S3 would still have announced the copy, with its ETag.
    () => events.emit(creation, sequencer),
  );
}

function corsXml(rule: CorsRuleDefinition): string {
  const tags = (name: string, values: Array<string | number>) =>
    values.map((v) => `<${name}>${v}</${name}>`).join('');
  return `<CORSConfiguration><CORSRule>${tags('AllowedOrigin', rule.allowedOrigins)}${tags(
    'AllowedMethod',
    rule.allowedMethods,
  )}${tags('AllowedHeader', rule.allowedHeaders)}${tags('ExposeHeader', rule.exposedHeaders)}${tags(
    'MaxAgeSeconds',
    [rule.maxAgeSeconds],
  )}</CORSRule></CORSConfiguration>`;
}
