/**
 * The playback signing key from Secrets Manager (lambdas/adapters/playback.ts): one GetSecretValue,
 * signed with the function's credentials (aws-json.ts, no SDK client), once per container. Secrets
 * Manager has no local stand-in, so a loopback server plays it: it verifies each request's SigV4
 * signature (body included) with the same check the local stand-ins use, and answers as Secrets
 * Manager does (AWS JSON 1.1).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { VideoRecord } from '#core/video.ts';
import { incomingRequest, readBody, SigV4Failure, sha256Hex, verifySigV4Request } from '#local/sigv4.ts';

const credentials = {
  accessKeyId: 'AKIDPLAYBACKTEST',
  secretAccessKey: 'playback-test-secret-key-0123456789',
};
const secretArn = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:videocloud-playback-AbCdEf';
const key = { kid: 'k1', secret: 'a'.repeat(43) };
const calls: Array<{ target: string; body: Record<string, unknown> }> = [];
let refused = 0;
let server: http.Server;
let resolvePlayback: typeof import('#adapters/playback.ts').resolvePlayback;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    void readBody(req, 1 << 20).then((body = Buffer.alloc(0)) => {
      const reply = (status: number, payload: object) => {
        res.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(payload));
      };
      try {
        verifySigV4Request(incomingRequest(req), {
          credentials,
          service: 'secretsmanager',
          region: 'us-east-1',
          bodySha256: sha256Hex(body),
        });
      } catch (error) {
        if (!(error instanceof SigV4Failure)) throw error;
        refused++;
        return reply(400, { __type: 'InvalidSignatureException', message: error.message });
      }
      const parsed = JSON.parse(body.toString('utf8'));
      calls.push({ target: String(req.headers['x-amz-target']), body: parsed });
      if (req.headers['content-type'] !== 'application/x-amz-json-1.1') {
        return reply(400, { __type: 'SerializationException', message: 'bad content type' });
      }
      if (parsed.SecretId !== secretArn) {
        return reply(400, {
          __type: 'ResourceNotFoundException',
          message: "Secrets Manager can't find the specified secret.",
        });
      }
      return reply(200, { ARN: secretArn, Name: 'videocloud-playback', SecretString: JSON.stringify(key) });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    SECRETS_MANAGER_ENDPOINT: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    PLAYBACK_KEY_SECRET_ARN: secretArn,
    MEDIA_BASE_URL: 'https://media.example.test',
    UPLOADS_BUCKET: 'uploads-test',
    MEDIA_BUCKET: 'media-test',
    STATE_TABLE: 'state-test',
    COGNITO_USER_POOL_ID: 'us-east-1_Test123',
    COGNITO_CLIENT_ID: 'test',
  });
  delete process.env.PLAYBACK_KEY;
  ({ resolvePlayback } = await import('#adapters/playback.ts'));
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const video = (id: string): Parameters<typeof resolvePlayback>[0] => ({
  id,
  status: 'ready',
  visibility: 'public',
  playbackEpoch: 0,
  masterPlaylistKey: `videos/${id}/master.m3u8`,
  posterKey: `videos/${id}/poster.jpg`,
  captions: [],
  downloads: 'none' as VideoRecord['downloads'],
  renditions: [],
  derivatives: null,
});

describe('playback key from Secrets Manager', () => {
  it('is fetched with one signed GetSecretValue, once per container, and signs playback URLs', async () => {
    const first = await resolvePlayback(video('0b4f6f0e-2a4e-4a3e-9a7e-8f8a2f9b1c3d'));
    const second = await resolvePlayback(video('1c5a7a1f-3b5f-4b4f-8b8f-9a9b3a0c2d4e'));
    expect(first?.hls).toMatch(
      /^https:\/\/media\.example\.test\/t\/[^/]+\/videos\/0b4f6f0e-2a4e-4a3e-9a7e-8f8a2f9b1c3d\/master\.m3u8$/,
    );
    expect(second?.hls).toContain('/videos/1c5a7a1f-3b5f-4b4f-8b8f-9a9b3a0c2d4e/master.m3u8');
    expect(refused).toBe(0);
    expect(calls).toEqual([{ target: 'secretsmanager.GetSecretValue', body: { SecretId: secretArn } }]);
  });
});
