import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

/**
 * An SQS batch with partial failures (Powertools batch). The processor is made per invocation: it holds
 * the batch's successes and failures while it runs, and invocations of one module may overlap (the local
 * runtime, Lambda Managed Instances). Powertools keeps a shared processor's state apart only inside
 * Lambda's per-invocation InvokeStore; a processor of its own is correct wherever the handler runs (a
 * shared one, overlapping, reported a failed record as `batchItemFailures: []`: test/unit/sqs-batch.test.ts).
 */
export function processSqsBatch(
  event: SQSEvent,
  context: Context,
  handleRecord: (record: SQSRecord) => Promise<unknown>,
): Promise<SQSBatchResponse> {
  return processPartialResponse(event, handleRecord, new BatchProcessor(EventType.SQS), { context });
}
