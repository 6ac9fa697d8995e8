/**
 * The local KeyValueStore stand-in (local/kvs.ts) against the real AWS SDK client, signing with SigV4A as
 * it does in the cloud: signed requests work, anything unsigned or signed with the wrong secret is refused
 * the way the service refuses it, If-Match is enforced, and the edge-store adapter's conflict handling
 * (read again, decide again) and monotonic revocations hold.
 */
import '@aws-sdk/signature-v4a';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CloudFrontKeyValueStoreClient,
  ConflictException,
  DescribeKeyValueStoreCommand,
  GetKeyCommand,
  PutKeyCommand,
  UpdateKeysCommand,
} from '@aws-sdk/client-cloudfront-keyvaluestore';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { type LocalKeyValueStoreServer, startLocalKeyValueStore } from '#local/kvs.ts';

const ARN = 'arn:aws:cloudfront::000000000000:key-value-store/11111111-2222-4333-8444-555555555555';
const credentials = { accessKeyId: 'LOCALKEY', secretAccessKey: 'local-secret' };

let server: LocalKeyValueStoreServer;
let dir: string;

const client = (creds = credentials) =>
  new CloudFrontKeyValueStoreClient({
    region: 'us-east-1',
    endpoint: server.endpoint,
    credentials: creds,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({
      httpAgent: new Agent({
        lookup: (_host, options, callback) =>
          options.all
            ? callback(null, [{ address: '127.0.0.1', family: 4 }])
            : callback(null, '127.0.0.1', 4),
      }),
    }),
  });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kvs-'));
  server = await startLocalKeyValueStore({ file: join(dir, 'kvs.json'), arn: ARN, credentials });
});
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the local KeyValueStore', () => {
  it('takes signed writes with the current ETag and serves them to the API and to the edge', async () => {
    const kvs = client();
    const { ETag } = await kvs.send(new DescribeKeyValueStoreCommand({ KvsARN: ARN }));
    const put = await kvs.send(new PutKeyCommand({ KvsARN: ARN, Key: 'rev:a', Value: '5', IfMatch: ETag }));
    expect(put.ETag).not.toBe(ETag);
    expect((await kvs.send(new GetKeyCommand({ KvsARN: ARN, Key: 'rev:a' }))).Value).toBe('5');
    expect(server.store.get('rev:a')).toBe('5');
  });

  it('refuses a stale ETag with ConflictException, and a write without one', async () => {
    const kvs = client();
    const { ETag } = await kvs.send(new DescribeKeyValueStoreCommand({ KvsARN: ARN }));
    await kvs.send(new UpdateKeysCommand({ KvsARN: ARN, IfMatch: ETag, Puts: [{ Key: 'x', Value: '1' }] }));
    await expect(
      kvs.send(new UpdateKeysCommand({ KvsARN: ARN, IfMatch: ETag, Puts: [{ Key: 'x', Value: '2' }] })),
    ).rejects.toBeInstanceOf(ConflictException);
    expect(server.store.get('x')).toBe('1');
  });

  it('refuses the wrong secret, an unknown access key, and unsigned requests', async () => {
    for (const creds of [
      { ...credentials, secretAccessKey: 'not-the-secret' },
      { ...credentials, accessKeyId: 'SOMEONEELSE' },
    ]) {
      await expect(
        client(creds).send(new DescribeKeyValueStoreCommand({ KvsARN: ARN })),
      ).rejects.toMatchObject({
        name: 'AccessDeniedException',
        $metadata: { httpStatusCode: 403 },
      });
    }
    const port = new URL(server.endpoint).port;
    const unsigned = await fetch(`http://127.0.0.1:${port}/key-value-stores/${encodeURIComponent(ARN)}`);
    expect(unsigned.status).toBe(403);
    expect(unsigned.headers.get('x-amzn-errortype')).toBe('AccessDeniedException');
  });

  it('refuses a signed request whose body was swapped', async () => {
    const kvs = client();
    kvs.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { body?: string | Uint8Array };
        const text =
          typeof request.body === 'string'
            ? request.body
            : new TextDecoder().decode(request.body as Uint8Array);
        request.body = text.replace('"1"', '"9"');
        return next(args);
      },
      // After signing: the deserialize step wraps the send itself.
      { step: 'deserialize', name: 'tamper' },
    );
    const { ETag } = await client().send(new DescribeKeyValueStoreCommand({ KvsARN: ARN }));
    await expect(
      kvs.send(new UpdateKeysCommand({ KvsARN: ARN, IfMatch: ETag, Puts: [{ Key: 'y', Value: '1' }] })),
    ).rejects.toMatchObject({ name: 'AccessDeniedException' });
    expect(server.store.get('y')).toBeUndefined();
  });
});

describe('the edge-store adapter over it', () => {
  const saved = { ...process.env };
  afterAll(() => {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
  });
  beforeAll(() => {
    // What the edge-sync function's environment holds (config validates it whole).
    Object.assign(process.env, {
      UPLOADS_BUCKET: 'unused-uploads',
      MEDIA_BUCKET: 'unused-media',
      STATE_TABLE: 'unused-state',
      COGNITO_USER_POOL_ID: 'us-east-1_unused',
      COGNITO_CLIENT_ID: 'unused',
      // One database source, whichever this run uses (CI's second pass sets DATABASE_URL).
      ...(process.env.DATABASE_URL ? {} : { PGLITE_DATA_DIR: join(dir, 'unused-db') }),
      EDGE_KVS_ARN: ARN,
      KVS_ENDPOINT: server.endpoint,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    });
  });

  it('raises revocation epochs and never lowers them, whatever the order of messages', async () => {
    const { raiseRevocations } = await import('#adapters/edge-store.ts');
    const video = '0b8f6b0e-4a2c-4d3e-9f10-7a6b5c4d3e2f';
    expect(
      await raiseRevocations([
        { videoId: video, epoch: 20 },
        { videoId: video, epoch: 10 },
      ]),
    ).toBe(1);
    expect(server.store.get(`rev:${video}`)).toBe('20');
    expect(await raiseRevocations([{ videoId: video, epoch: 15 }])).toBe(0);
    expect(server.store.get(`rev:${video}`)).toBe('20');
    expect(await raiseRevocations([{ videoId: video, epoch: 30 }])).toBe(1);
    expect(server.store.get(`rev:${video}`)).toBe('30');
  });

  it('reads again and succeeds when another writer moved the ETag in between', async () => {
    const { raiseRevocations } = await import('#adapters/edge-store.ts');
    const video = '1c9f7c1f-5b3d-4e4f-8a21-8b7c6d5e4f30';
    // Two writers at once: one of them meets a stale ETag, reads again, and still lands its value.
    const results = await Promise.all([
      raiseRevocations([{ videoId: video, epoch: 7 }]),
      raiseRevocations([{ videoId: '2d0a8d20-6c4e-4f50-9b32-9c8d7e6f5041', epoch: 3 }]),
    ]);
    expect(results).toEqual([1, 1]);
    expect(server.store.get(`rev:${video}`)).toBe('7');
  });

  it('the edge-sync consumer writes a batch at once and sends a malformed message alone to retry and the DLQ', async () => {
    const { handler } = await import('#events/edge-sync.ts');
    const video = '3e1b9e31-7d5f-4a61-8c43-ad9e8f706152';
    const record = (messageId: string, body: string) =>
      ({ messageId, body, receiptHandle: messageId, attributes: {}, messageAttributes: {} }) as never;
    const result = await handler({
      Records: [
        record('good', JSON.stringify({ videoId: video, epoch: 42 })),
        record('bad', '{"videoId":1}'),
      ],
    });
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'bad' }]);
    expect(server.store.get(`rev:${video}`)).toBe('42');
  });
});
