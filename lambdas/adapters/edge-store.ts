// SigV4A, which the KeyValueStore API requires: the pure-JS signer registers itself with the SDK.
import '@aws-sdk/signature-v4a';
import { Agent } from 'node:http';
import type { LookupFunction } from 'node:net';
import {
  CloudFrontKeyValueStoreClient,
  ConflictException,
  DescribeKeyValueStoreCommand,
  GetKeyCommand,
  ResourceNotFoundException,
  UpdateKeysCommand,
} from '@aws-sdk/client-cloudfront-keyvaluestore';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { config } from '#shared/config.ts';
import { edgeKeys } from '#shared/resources.ts';

/**
 * The CDN's KeyValueStore, which the playback gate reads at every edge: signing keys (`key:<kid>`) and
 * revocations (`rev:<video id>` = the epoch tokens must reach). Writes take the store's ETag (UpdateKeys
 * with If-Match) and start again from a fresh read on a conflict. The local runtime points KVS_ENDPOINT
 * at its stand-in (local/kvs.ts), which speaks the same API and checks the same SigV4A signatures.
 */
export interface Revocation {
  videoId: string;
  epoch: number;
}

const MAX_ATTEMPTS = 6;
/** UpdateKeys takes at most 50 puts and deletes per call. */
const MAX_KEYS_PER_UPDATE = 50;

let client: CloudFrontKeyValueStoreClient | undefined;

/**
 * The client, built once. Config is read only by functions that have it (the deploy-time key handler
 * runs without the app's environment and names its store itself).
 */
function kvs(arn?: string): { client: CloudFrontKeyValueStoreClient; arn: string } {
  const edge = arn ? { kvsArn: arn, kvsEndpoint: undefined } : config().edge;
  if (!edge.kvsArn) throw new Error('EDGE_KVS_ARN is not set on this function');
  client ??= new CloudFrontKeyValueStoreClient({
    ...(edge.kvsEndpoint ? { endpoint: edge.kvsEndpoint, requestHandler: localhostHandler() } : {}),
  });
  return { client, arn: edge.kvsArn };
}

/**
 * The API addresses each store at `<account>.<endpoint host>`; under a `localhost` endpoint that is a
 * subdomain of localhost, which RFC 6761 reserves for loopback but glibc does not resolve.
 */
function localhostHandler(): NodeHttpHandler {
  const lookup: LookupFunction = (hostname, options, callback) => {
    if (!/(^|\.)localhost$/.test(hostname))
      throw new Error(`KVS_ENDPOINT must be on localhost, not ${hostname}`);
    if (options.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
    else callback(null, '127.0.0.1', 4);
  };
  return new NodeHttpHandler({
    httpAgent: new Agent({ lookup }),
    connectionTimeout: 3000,
    requestTimeout: 10_000,
  });
}

/**
 * Raises each video's revocation epoch to at least the given one: a late or repeated message never
 * lowers it (the values only grow), so delivery order does not matter.
 */
export async function raiseRevocations(revocations: readonly Revocation[]): Promise<number> {
  const highest = new Map<string, number>();
  for (const { videoId, epoch } of revocations)
    highest.set(videoId, Math.max(epoch, highest.get(videoId) ?? 0));
  const entries = [...highest];
  let written = 0;
  for (let i = 0; i < entries.length; i += MAX_KEYS_PER_UPDATE) {
    written += await putKeys(
      entries.slice(i, i + MAX_KEYS_PER_UPDATE).map(([videoId, epoch]) => ({
        key: edgeKeys.revocation(videoId),
        value: String(epoch),
        keep: (current) => current !== undefined && Number(current) >= epoch,
      })),
    );
  }
  return written;
}

/**
 * Writes a signing key the gate will accept: at deploy time (into the store `kvsArn` names) and at the
 * local runtime's start (into EDGE_KVS_ARN's).
 */
export async function putSigningKey(kid: string, secret: string, kvsArn?: string): Promise<void> {
  await putKeys(
    [{ key: edgeKeys.signingKey(kid), value: secret, keep: (current) => current === secret }],
    kvsArn,
  );
}

interface KeyWrite {
  key: string;
  value: string;
  /** True when the stored value already says enough and must stay. */
  keep: (current: string | undefined) => boolean;
}

async function putKeys(writes: readonly KeyWrite[], kvsArn?: string): Promise<number> {
  const { client, arn } = kvs(kvsArn);
  for (let attempt = 1; ; attempt++) {
    const { ETag } = await client.send(new DescribeKeyValueStoreCommand({ KvsARN: arn }));
    const current = await Promise.all(writes.map((write) => readKey(client, arn, write.key)));
    const puts = writes.filter((write, i) => !write.keep(current[i]));
    if (puts.length === 0) return 0;
    try {
      await client.send(
        new UpdateKeysCommand({
          KvsARN: arn,
          IfMatch: ETag,
          Puts: puts.map(({ key, value }) => ({ Key: key, Value: value })),
        }),
      );
      return puts.length;
    } catch (error) {
      // Someone else wrote since our read: back off a little (jittered), read again and decide again.
      if (!(error instanceof ConflictException) || attempt >= MAX_ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 50 * 2 ** attempt));
    }
  }
}

async function readKey(client: CloudFrontKeyValueStoreClient, arn: string, key: string) {
  try {
    return (await client.send(new GetKeyCommand({ KvsARN: arn, Key: key }))).Value;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
}
