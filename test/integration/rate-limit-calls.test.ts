/**
 * The DynamoDB rate limiter (lambdas/adapters/rate-limit.ts) against dynalite: one DynamoDB call per
 * take in the common case (a run of requests, a caller back after a pause), and the same decisions as
 * the GCRA whatever the container's guess.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { LocalDynamo } from '#local/dynamo.ts';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const policy = { capacity: 3, refillPerSecond: 1 };
let dataDir: string;
let dynamo: LocalDynamo;
let calls = 0;
let counter: http.Server;
let limiterModule: typeof import('#adapters/rate-limit.ts');

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'videocloud-ratelimit-'));
  const { startLocalDynamo } = await import('#local/dynamo.ts');
  dynamo = await startLocalDynamo({ directory: join(dataDir, 'db'), tableName: 'state-test', credentials });
  // Every DynamoDB call is counted on its way to dynalite (forwarded as sent: the signature covers it).
  const target = new URL(dynamo.endpoint);
  counter = http.createServer((req, res) => {
    calls++;
    const forward = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => counter.listen(0, '127.0.0.1', resolve));
  Object.assign(process.env, {
    STATE_TABLE: 'state-test',
    DYNAMODB_ENDPOINT: `http://127.0.0.1:${(counter.address() as AddressInfo).port}`,
    UPLOADS_BUCKET: 'uploads-test',
    MEDIA_BUCKET: 'media-test',
    COGNITO_USER_POOL_ID: 'us-east-1_Test123',
    COGNITO_CLIENT_ID: 'test',
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
  });
  limiterModule = await import('#adapters/rate-limit.ts');
}, 60_000);

afterAll(async () => {
  counter?.closeAllConnections();
  await new Promise((resolve) => (counter ? counter.close(resolve) : resolve(undefined)));
  await dynamo?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function counted<T>(work: () => Promise<T>): Promise<{ result: T; calls: number }> {
  const before = calls;
  const result = await work();
  return { result, calls: calls - before };
}

describe('DynamoRateLimiter', () => {
  it('takes one call for a new bucket, for a run of requests, and for a caller back after a pause', async () => {
    const limiter = new limiterModule.DynamoRateLimiter();
    const t0 = 1_000_000;
    const first = await counted(() => limiter.take('read', 'user:a', policy, t0));
    expect(first).toMatchObject({ calls: 1, result: { allowed: true, remaining: 2 } });
    const second = await counted(() => limiter.take('read', 'user:a', policy, t0 + 10));
    expect(second).toMatchObject({ calls: 1, result: { allowed: true, remaining: 1 } });
    const third = await counted(() => limiter.take('read', 'user:a', policy, t0 + 20));
    expect(third).toMatchObject({ calls: 1, result: { allowed: true, remaining: 0 } });
    // A pause long enough for the bucket to fill again: the idle update goes first, one call.
    const later = await counted(() => limiter.take('read', 'user:a', policy, t0 + 60_000));
    expect(later).toMatchObject({ calls: 1, result: { allowed: true, remaining: 2 } });
  });

  it('decides the same when another container moved the bucket (a stale guess costs one more call)', async () => {
    const here = new limiterModule.DynamoRateLimiter();
    const elsewhere = new limiterModule.DynamoRateLimiter();
    const t0 = 2_000_000;
    await here.take('write', 'user:b', policy, t0);
    await elsewhere.take('write', 'user:b', policy, t0 + 1);
    // `here` last saw a busy bucket and guesses right; a fresh container guesses idle and is wrong once.
    const fresh = new limiterModule.DynamoRateLimiter();
    const stale = await counted(() => fresh.take('write', 'user:b', policy, t0 + 2));
    expect(stale).toMatchObject({ calls: 2, result: { allowed: true, remaining: 0 } });
    const refused = await counted(() => here.take('write', 'user:b', policy, t0 + 3));
    expect(refused.result).toMatchObject({ allowed: false, remaining: 0, retryAfterSeconds: 1 });
  });
});
