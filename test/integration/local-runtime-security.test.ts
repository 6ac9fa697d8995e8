import { request } from 'node:http';
import { connect } from 'node:net';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { LOCAL_RESOURCES } from '#local/runtime.ts';
import { LOCAL_ACCESS_KEY_ID } from '#local/sigv4.ts';
import { queueNames } from '#shared/resources.ts';
import { RUNTIME_START_MS, startTestRuntime, type TestRuntime } from '#test/helpers/runtime.ts';

/**
 * What the local runtime guarantees to whoever can reach this machine's loopback: the DynamoDB and SQS
 * stand-ins refuse what the real services refuse (a request without a SigV4 signature by the runtime's
 * own credentials gets 403 in that service's error shape, and changes nothing; the S3 stand-in's checks
 * are in local-s3.test.ts, here it is reached through the runtime), and the gateway answers only the
 * Host names it serves, so a DNS-rebound page cannot use it.
 */
describe('the local runtime against a local attacker', () => {
  let runtime: TestRuntime;
  let dynamoEndpoint: string;
  let sqsEndpoint: string;
  const forgers = {
    'made-up credentials': { accessKeyId: 'AKIAFORGED', secretAccessKey: 'forged' },
    "the runtime's key id with another secret": {
      accessKeyId: LOCAL_ACCESS_KEY_ID,
      secretAccessKey: 'S3RVER',
    },
  };

  beforeAll(async () => {
    runtime = await startTestRuntime({ local: { ALLOWED_HOSTS: ['videos.test', 'proxy.test:8443'] } });
    dynamoEndpoint = process.env.DYNAMODB_ENDPOINT!;
    sqsEndpoint = process.env.SQS_ENDPOINT!;
  }, RUNTIME_START_MS);
  afterAll(async () => {
    await runtime.close();
  }, 30_000);

  const createUpload = async (token: string) => {
    const response = await runtime.api('/v1/uploads', {
      method: 'POST',
      token,
      json: { filename: 'a.mp4', contentType: 'video/mp4', size: 1000, title: 'mine' },
    });
    expect(response.status).toBe(201);
    return (await response.json()) as { uploadId: string; videoId: string };
  };
  const sessionKey = (uploadId: string) => ({ pk: { S: `upload#${uploadId}` }, sk: { S: 'session' } });

  it('every stand-in listens on loopback only: not even another loopback address reaches it', async () => {
    // KVS_ENDPOINT: the CloudFront KeyValueStore stand-in (its API demands SigV4A: test/integration/local-kvs.test.ts).
    for (const endpoint of [runtime.s3.endpoint, dynamoEndpoint, sqsEndpoint, process.env.KVS_ENDPOINT!]) {
      const url = new URL(endpoint);
      expect(['127.0.0.1', 'localhost', '[::1]']).toContain(url.hostname);
      // Bound to one address, not to all: 127.0.0.2 (still this machine's loopback) is refused.
      const elsewhere = await new Promise<string>((resolve) => {
        const socket = connect({ host: '127.0.0.2', port: Number(url.port) });
        socket.once('connect', () => {
          socket.destroy();
          resolve('connected');
        });
        socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
      });
      expect(elsewhere).toBe('ECONNREFUSED');
    }
  });

  describe('DynamoDB', () => {
    it('refuses an unsigned request with 403 MissingAuthenticationTokenException', async () => {
      const response = await fetch(dynamoEndpoint, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-amz-json-1.0',
          'X-Amz-Target': 'DynamoDB_20120810.ListTables',
        },
        body: '{}',
      });
      expect(response.status).toBe(403);
      expect(await response.json()).toMatchObject({
        __type: expect.stringMatching(/#MissingAuthenticationTokenException$/),
      });
    });

    it.each(Object.entries(forgers))(
      'refuses %s, and an upload session cannot be given to another owner',
      async (_, credentials) => {
        const alice = await runtime.token('alice', ['creator']);
        const mallory = await runtime.token('mallory', ['creator']);
        const { uploadId } = await createUpload(alice);
        const forger = new DynamoDBClient({ endpoint: dynamoEndpoint, region: 'us-east-1', credentials });
        const stolen = forger.send(
          new PutItemCommand({
            TableName: LOCAL_RESOURCES.stateTable,
            Item: { ...sessionKey(uploadId), session: { M: { ownerId: { S: 'mallory' } } } },
          }),
        );
        await expect(stolen).rejects.toMatchObject({
          name: expect.stringMatching(/^(UnrecognizedClientException|InvalidSignatureException)$/),
          $metadata: { httpStatusCode: 403 },
        });
        forger.destroy();
        expect((await runtime.api(`/v1/uploads/${uploadId}`, { token: mallory })).status).toBe(404);
        expect((await runtime.api(`/v1/uploads/${uploadId}`, { token: alice })).status).toBe(200);
      },
    );

    it("answers the runtime's own credentials", async () => {
      const client = new DynamoDBClient({
        endpoint: dynamoEndpoint,
        region: 'us-east-1',
        credentials: runtime.credentials,
      });
      const { uploadId } = await createUpload(await runtime.token('alice', ['creator']));
      const { Item } = await client.send(
        new GetItemCommand({ TableName: LOCAL_RESOURCES.stateTable, Key: sessionKey(uploadId) }),
      );
      expect(Item?.session?.M?.ownerId?.S).toBe('alice');
      client.destroy();
    });
  });

  describe('SQS', () => {
    const body = JSON.stringify({ videoId: '00000000-0000-4000-8000-000000000000', forged: true });
    const sent = () => runtime.queues.sent(queueNames.mediaCleanup).filter((message) => message === body);

    it('refuses SendMessage without credentials with 403, and enqueues nothing', async () => {
      const response = await fetch(sqsEndpoint, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-amz-json-1.0', 'X-Amz-Target': 'AmazonSQS.SendMessage' },
        body: JSON.stringify({ QueueUrl: runtime.queues.url(queueNames.mediaCleanup), MessageBody: body }),
      });
      expect(response.status).toBe(403);
      expect(await response.json()).toMatchObject({
        __type: expect.stringMatching(/#MissingAuthenticationToken$/),
      });
      expect(sent()).toEqual([]);
    });

    it.each(Object.entries(forgers))('refuses %s with 403', async (_, credentials) => {
      const forger = new SQSClient({ endpoint: sqsEndpoint, region: 'us-east-1', credentials });
      await expect(
        forger.send(
          new SendMessageCommand({
            QueueUrl: runtime.queues.url(queueNames.mediaCleanup),
            MessageBody: body,
          }),
        ),
      ).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
      forger.destroy();
      expect(sent()).toEqual([]);
    });
  });

  describe('the gateway and the Host header (DNS rebinding)', () => {
    /** fetch() may not set Host; a raw request can, as a rebound browser page effectively does. */
    const withHost = (host: string, path: string, method = 'GET', body?: string) =>
      new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port: runtime.port,
            path,
            method,
            headers: { ...(host ? { Host: host } : {}), 'Content-Type': 'application/json' },
            setHost: false,
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () =>
              resolve({
                status: res.statusCode ?? 0,
                type: String(res.headers['content-type'] ?? ''),
                body: Buffer.concat(chunks).toString('utf8'),
              }),
            );
          },
        );
        req.once('error', reject);
        req.end(body);
      });
    const tokenRequest = JSON.stringify({ sub: 'eve', groups: ['admin'] });

    it.each([
      ['a rebound name', 'rebind.evil.example'],
      ['a rebound name with the port', 'rebind.evil.example:PORT'],
      ['localhost on another port', 'localhost:OTHER'],
      ['localhost without the port', 'localhost'],
      ['a name that merely ends like a configured one', 'evil.videos.test'],
      ['a configured name on another port', 'proxy.test:8444'],
    ])('refuses %s with 421 problem+json: no token minted, no config echoed', async (_, template) => {
      const host = template.replace('PORT', String(runtime.port)).replace('OTHER', String(runtime.port + 1));
      const minted = await withHost(host, '/local/token', 'POST', tokenRequest);
      expect(minted.status).toBe(421);
      expect(minted.type).toBe('application/problem+json');
      expect(minted.body).not.toContain('access_token');
      const config = await withHost(host, '/config.json');
      expect(config.status).toBe(421);
      expect(config.body).not.toContain('apiBaseUrl');
      expect((await withHost(host, '/v1/health')).status).toBe(421);
    });

    it('refuses a request without a Host (Node answers 400 itself)', async () => {
      const minted = await withHost('', '/local/token', 'POST', tokenRequest);
      expect([400, 421]).toContain(minted.status);
      expect(minted.body).not.toContain('access_token');
    });

    it.each([
      ['localhost', 'localhost:PORT'],
      ['127.0.0.1', '127.0.0.1:PORT'],
      ['[::1]', '[::1]:PORT'],
      ['a configured name', 'videos.test'],
      ['a configured name with the port', 'Videos.Test:PORT'],
      ['a configured name:port', 'proxy.test:8443'],
    ])('answers %s', async (_, template) => {
      const host = template.replace('PORT', String(runtime.port));
      expect((await withHost(host, '/v1/health')).status).toBe(200);
      const minted = await withHost(host, '/local/token', 'POST', tokenRequest);
      expect(minted.status).toBe(200);
      const config = JSON.parse((await withHost(host, '/config.json')).body) as { apiBaseUrl: string };
      expect(config.apiBaseUrl.toLowerCase()).toBe(`http://${host.toLowerCase()}`);
    });
  });

  it('S3 refuses to hand out a source without a signature', async () => {
    const { videoId } = await createUpload(await runtime.token('alice', ['creator']));
    const response = await fetch(`${runtime.s3.endpoint}/${LOCAL_RESOURCES.uploadsBucket}?list-type=2`);
    expect(response.status).toBe(403);
    expect(await response.text()).not.toContain(videoId);
  });
});
