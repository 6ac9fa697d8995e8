import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import * as z from 'zod';
import { raiseRevocations } from '#adapters/edge-store.ts';
import { logger } from '#shared/logger.ts';

/**
 * Outbox relay -> edge-sync queue -> here: writes playback revocations into the CDN's KeyValueStore,
 * from where the playback gate refuses the video's older tokens at every edge within seconds. Runs
 * outside the VPC (the KeyValueStore API is on the internet) and touches no database. One UpdateKeys
 * per batch; values only ever grow, so redelivery and reordering are harmless. A malformed message
 * can never succeed: it is reported alone and ends in the DLQ.
 */
const Message = z.strictObject({ videoId: z.uuid(), epoch: z.number().int().nonnegative() });

export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const failures: string[] = [];
  const valid: Array<{ messageId: string; revocation: z.infer<typeof Message> }> = [];
  for (const record of event.Records) {
    let parsed: z.ZodSafeParseResult<z.infer<typeof Message>> | undefined;
    try {
      parsed = Message.safeParse(JSON.parse(record.body));
    } catch {
      parsed = undefined;
    }
    if (parsed?.success) valid.push({ messageId: record.messageId, revocation: parsed.data });
    else {
      logger.error('edge-sync: malformed message', { messageId: record.messageId });
      failures.push(record.messageId);
    }
  }
  if (valid.length > 0) {
    try {
      const written = await raiseRevocations(valid.map((v) => v.revocation));
      logger.info('playback revocations written', { received: valid.length, written });
    } catch (error) {
      logger.error('edge-sync: KeyValueStore update failed; the batch is retried', { error });
      failures.push(...valid.map((v) => v.messageId));
    }
  }
  return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
};
