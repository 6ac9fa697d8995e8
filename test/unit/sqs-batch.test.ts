import { describe, expect, it } from '@jest/globals';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { processSqsBatch } from '#events/sqs-batch.ts';
import { lambdaContext } from '#local/lambda-context.ts';

const event = (id: string): SQSEvent => ({
  Records: [
    {
      messageId: id,
      body: id,
      receiptHandle: id,
      attributes: {},
      messageAttributes: {},
    } as unknown as SQSRecord,
  ],
});
const context: Context = lambdaContext('test', 10_000);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('SQS batches', () => {
  it('keep each invocation’s failures to itself when invocations overlap', async () => {
    // A slow success overlapping a quick failure: with one processor for both, the failure was lost.
    const [succeeded, failed, mixed] = await Promise.allSettled([
      processSqsBatch(event('ok'), context, async () => pause(50)),
      processSqsBatch(event('bad'), context, async () => {
        await pause(10);
        throw new Error('boom');
      }),
      processSqsBatch(
        { Records: [...event('a').Records, ...event('b').Records] },
        context,
        async (record) => {
          await pause(20);
          if (record.messageId === 'b') throw new Error('b failed');
        },
      ),
    ]);
    expect(succeeded).toEqual({ status: 'fulfilled', value: { batchItemFailures: [] } });
    expect(failed.status).toBe('rejected');
    expect(mixed).toEqual({ status: 'fulfilled', value: { batchItemFailures: [{ itemIdentifier: 'b' }] } });
  });
});
