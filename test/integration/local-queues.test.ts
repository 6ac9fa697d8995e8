/**
 * The local SQS stand-in's visibility changes, as the ingest worker uses them to come back soon for a
 * record that must wait (rather than after the queue's whole visibility timeout), and as a heartbeat
 * uses them to hold long work past the queue's timeout (up to SQS's 12 hours).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { LOCAL_ACCESS_KEY_ID } from '#local/sigv4.ts';
import { LocalQueues } from '#local/sqs.ts';
import { until } from '#test/helpers/eventually.ts';

describe('local queue visibility', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'local-queues-'));
  const queues = new LocalQueues(path.join(dir, 'queues.json'), [
    { name: 'work', visibilityTimeoutSeconds: 5, maxReceiveCount: 3 },
    { name: 'long', visibilityTimeoutSeconds: 1, maxReceiveCount: 3 },
    { name: 'held', visibilityTimeoutSeconds: 5, maxReceiveCount: 3 },
    { name: 'compressed', visibilityTimeoutSeconds: 1, maxReceiveCount: 3, maxVisibilitySeconds: 1 },
  ]);
  let sqs: SQSClient;
  beforeAll(async () => {
    const credentials = { accessKeyId: LOCAL_ACCESS_KEY_ID, secretAccessKey: 'queue-test-secret' };
    const endpoint = await queues.start(credentials);
    sqs = new SQSClient({ endpoint, region: 'us-east-1', credentials });
  });
  afterAll(async () => {
    await queues.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('a shortened visibility brings a failed record back in about a second, not the queue timeout of 5 s', async () => {
    const deliveries: number[] = [];
    let staleHandle = '';
    queues.consume(
      'work',
      async (event) => {
        deliveries.push(Date.now());
        const handle = event.Records[0]!.receiptHandle;
        if (deliveries.length === 1) {
          staleHandle = handle;
          await sqs.send(
            new ChangeMessageVisibilityCommand({
              QueueUrl: queues.url('work'),
              ReceiptHandle: handle,
              VisibilityTimeout: 1,
            }),
          );
          throw new Error('not yet');
        }
        return undefined;
      },
      { batchSize: 1, pollMs: 50 },
    );
    queues.send('work', 'job');
    await until(() => deliveries.length >= 2, { timeoutMs: 4_000, what: 'the second delivery' });
    expect(deliveries).toHaveLength(2);
    expect(deliveries[1]! - deliveries[0]!).toBeLessThan(2_500);
    // The first receive's handle is no longer valid once the message was received again.
    await expect(
      sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queues.url('work'),
          ReceiptHandle: staleHandle,
          VisibilityTimeout: 1,
        }),
      ),
    ).rejects.toThrow(/receipt handle is not valid/);
  });

  /** Delivers one message to a consumer that holds it for `seconds` and fails; returns both delivery times. */
  async function heldAndRetried(queue: string, seconds: number): Promise<number[]> {
    const deliveries: number[] = [];
    queues.consume(
      queue,
      async (event) => {
        deliveries.push(Date.now());
        if (deliveries.length > 1) return undefined;
        await sqs.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: queues.url(queue),
            ReceiptHandle: event.Records[0]!.receiptHandle,
            VisibilityTimeout: seconds,
          }),
        );
        throw new Error('not yet');
      },
      { batchSize: 1, pollMs: 50 },
    );
    queues.send(queue, 'job');
    await until(() => deliveries.length >= 2, { timeoutMs: 10_000, what: 'the second delivery' });
    return deliveries;
  }

  it('a change may hold a message past the queue timeout (as a heartbeat does), as SQS allows', async () => {
    const [first, second] = await heldAndRetried('long', 3);
    expect(second! - first!).toBeGreaterThanOrEqual(2_900);
    expect(second! - first!).toBeLessThan(5_000);
  }, 15_000);

  it('refuses more than 12 hours, and a queue defined to compress time caps every change', async () => {
    queues.send('held', 'held');
    const received = await new Promise<string>((resolve) =>
      queues.consume(
        'held',
        async (event) => {
          const handle = event.Records[0]!.receiptHandle;
          const tooLong = sqs.send(
            new ChangeMessageVisibilityCommand({
              QueueUrl: queues.url('held'),
              ReceiptHandle: handle,
              VisibilityTimeout: 12 * 3600 + 1,
            }),
          );
          await expect(tooLong).rejects.toThrow(/VisibilityTimeout must be an integer from 0 to 43200/);
          resolve(event.Records[0]!.body);
          return undefined;
        },
        { batchSize: 1, pollMs: 50 },
      ),
    );
    expect(received).toBe('held');
    const [first, second] = await heldAndRetried('compressed', 3);
    expect(second! - first!).toBeLessThan(2_500);
  }, 15_000);
});
