/**
 * The SDK-free signing of lambdas/adapters/sigv4.ts: the RDS IAM token is byte-identical to
 * @aws-sdk/rds-signer's (the SDK signer it replaces in the bundles), with and without a session token.
 * The signed DynamoDB/SQS calls of aws-json.ts are verified by the local stand-ins' SigV4 checks
 * (test/integration/rate-limit-calls.test.ts, local-queues.test.ts and the API suites).
 */

import { Signer } from '@aws-sdk/rds-signer';
import { afterEach, describe, expect, it, jest } from '@jest/globals';

const credentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};
const target = {
  host: 'videocloud-proxy.proxy-abc123.eu-west-1.rds.amazonaws.com',
  port: 5432,
  user: 'videocloud_app',
  region: 'eu-west-1',
};
Object.assign(process.env, {
  AWS_ACCESS_KEY_ID: credentials.accessKeyId,
  AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
  UPLOADS_BUCKET: 'videocloud-uploads-test',
  MEDIA_BUCKET: 'videocloud-media-test',
  STATE_TABLE: 'videocloud-state-test',
  COGNITO_USER_POOL_ID: 'eu-west-1_test',
  COGNITO_CLIENT_ID: 'test',
  AWS_REGION: 'eu-west-1',
});
const { rdsAuthToken } = await import('#adapters/sigv4.ts');

afterEach(() => {
  jest.useRealTimers();
  delete process.env.AWS_SESSION_TOKEN;
});

/** Both signers read the clock: fix it (only Date; timers stay real). */
function atFixedTime() {
  jest.useFakeTimers({
    now: new Date('2026-11-30T08:15:00Z'),
    doNotFake: [
      'nextTick',
      'setImmediate',
      'setTimeout',
      'setInterval',
      'clearTimeout',
      'clearInterval',
      'queueMicrotask',
    ],
  });
}

describe('RDS IAM token', () => {
  it('is the token @aws-sdk/rds-signer makes, byte for byte', async () => {
    atFixedTime();
    const sdk = new Signer({
      hostname: target.host,
      port: target.port,
      username: target.user,
      region: target.region,
      credentials,
    });
    const ours = await rdsAuthToken(target);
    expect(ours).toBe(await sdk.getAuthToken());
    expect(ours).toMatch(
      /^videocloud-proxy\.proxy-abc123\.eu-west-1\.rds\.amazonaws\.com:5432\/\?Action=connect&DBUser=videocloud_app&X-Amz-Algorithm=AWS4-HMAC-SHA256&/,
    );
    expect(ours).toContain('X-Amz-Expires=900');
  });

  it('signs the session token in when Lambda gives one (an execution role)', async () => {
    atFixedTime();
    process.env.AWS_SESSION_TOKEN = 'session/token+with=odd~chars';
    const sdk = new Signer({
      hostname: target.host,
      port: target.port,
      username: target.user,
      region: target.region,
      credentials: { ...credentials, sessionToken: process.env.AWS_SESSION_TOKEN },
    });
    const ours = await rdsAuthToken(target);
    expect(ours).toBe(await sdk.getAuthToken());
    expect(ours).toContain('X-Amz-Security-Token=session%2Ftoken%2Bwith%3Dodd~chars');
  });

  it('fails clearly without credentials in the environment', async () => {
    const saved = process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_ACCESS_KEY_ID;
    try {
      await expect(rdsAuthToken(target)).rejects.toThrow(/AWS_ACCESS_KEY_ID/);
    } finally {
      process.env.AWS_ACCESS_KEY_ID = saved;
    }
  });
});
