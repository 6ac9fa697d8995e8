/**
 * The message heartbeat (lambdas/adapters/heartbeat.ts) against the local SQS stand-in, with two pollers
 * on one queue, as two Lambda instances would be: work longer than the queue's visibility timeout is
 * delivered once while its worker renews its lease, and a worker that stops renewing (it died) has its
 * message handed to the other poller within about one lease, not after the queue's timeout.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { SQSEvent } from 'aws-lambda';
import { startHeartbeat } from '#adapters/heartbeat.ts';
import { LocalQueues } from '#local/sqs.ts';
import { until } from '#test/helpers/eventually.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'heartbeat-'));
let queues: LocalQueues;
let sqs: SQSClient;

beforeAll(async () => {
  // A queue timeout far longer than any test: whatever comes back early came back through a lease.
  queues = new LocalQueues(
    path.join(dir, 'queues.json'),
    ['a', 'b', 'd'].map((name) => ({ name, visibilityTimeoutSeconds: 600, maxReceiveCount: 5 })),
  );
  const credentials = { accessKeyId: 'HEARTBEATTEST', secretAccessKey: 'heartbeat-test-secret' };
  sqs = new SQSClient({ endpoint: await queues.start(credentials), region: 'us-east-1', credentials });
}, 10_000);
afterAll(async () => {
  await queues.stop();
  rmSync(dir, { recursive: true, force: true });
}, 10_000);

const hold = (name: string) => async (_queue: unknown, receiptHandle: string, seconds: number) => {
  await sqs.send(
    new ChangeMessageVisibilityCommand({
      QueueUrl: queues.url(name),
      ReceiptHandle: receiptHandle,
      VisibilityTimeout: seconds,
    }),
  );
};

describe('a heartbeat holds a message one lease at a time', () => {
  it('work three leases long is delivered once, to one of two pollers', async () => {
    const queueName = 'a';
    const deliveries: number[] = [];
    let done = false;
    const worker = async (event: SQSEvent) => {
      deliveries.push(Date.now());
      const heartbeat = await startHeartbeat({
        queue: 'transcode',
        receiptHandle: event.Records[0]!.receiptHandle,
        leaseSeconds: 1,
        hold: hold(queueName),
      });
      try {
        await new Promise((resolve) => setTimeout(resolve, 3_000));
        expect(heartbeat.signal.aborted).toBe(false);
      } finally {
        await heartbeat.stop();
        done = true;
      }
      return undefined;
    };
    queues.consume(queueName, worker, { batchSize: 1, pollMs: 50 });
    queues.consume(queueName, worker, { batchSize: 1, pollMs: 50 });
    queues.send(queueName, 'long job');
    await until(() => done && queues.depth(queueName) === 0, {
      timeoutMs: 10_000,
      what: 'the held message to be processed once and deleted',
    });
    expect(deliveries).toHaveLength(1);
  }, 20_000);

  it('a worker that dies mid-job: the other poller has the message within about one lease', async () => {
    const queueName = 'b';
    const deliveries: number[] = [];
    let stopDead: (() => Promise<void>) | undefined;
    let bury: (() => void) | undefined;
    const worker = async (event: SQSEvent) => {
      deliveries.push(Date.now());
      if (deliveries.length === 1) {
        // The first worker renews once, then "dies": no more renewals, and it never answers.
        const heartbeat = await startHeartbeat({
          queue: 'transcode',
          receiptHandle: event.Records[0]!.receiptHandle,
          leaseSeconds: 2,
          hold: hold(queueName),
        });
        stopDead = heartbeat.stop;
        await new Promise((resolve) => setTimeout(resolve, 800));
        await heartbeat.stop();
        return new Promise<undefined>((resolve) => {
          bury = () => resolve(undefined);
        });
      }
      return undefined;
    };
    queues.consume(queueName, worker, { batchSize: 1, pollMs: 50 });
    queues.consume(queueName, worker, { batchSize: 1, pollMs: 50 });
    queues.send(queueName, 'job');
    await until(() => deliveries.length === 2, { timeoutMs: 10_000, what: 'the second delivery' });
    // Back within the lease (2 s) after the last renewal, not after the queue's 600 s.
    expect(deliveries[1]! - deliveries[0]!).toBeLessThan(4_000);
    expect(deliveries[1]! - deliveries[0]!).toBeGreaterThanOrEqual(1_500);
    await stopDead?.();
    bury?.(); // let the queue stop
  }, 20_000);

  it('renewals that keep failing until the lease could have run out abort the work', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const heartbeat = await startHeartbeat({
      queue: 'transcode',
      receiptHandle: 'r',
      leaseSeconds: 0.6,
      onError: (error) => errors.push(error),
      hold: async () => {
        calls += 1;
        if (calls > 1) throw new Error('SQS is unreachable');
      },
    });
    await until(() => heartbeat.signal.aborted, { timeoutMs: 5_000, what: 'the heartbeat to give up' });
    expect((heartbeat.signal.reason as Error).message).toBe(
      'lost the queue message: its lease could not be renewed',
    );
    expect(errors.length).toBeGreaterThanOrEqual(1);
    await heartbeat.stop();
  });

  it('a first hold that fails leaves the queue timeout in force and does not abort', async () => {
    const heartbeat = await startHeartbeat({
      queue: 'transcode',
      receiptHandle: 'not-a-handle',
      leaseSeconds: 0.6,
      hold: hold('d'),
    });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(heartbeat.signal.aborted).toBe(false);
    await heartbeat.stop();
  });
});
