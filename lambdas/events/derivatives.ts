import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { PostgresDerivatives } from '#adapters/db/derivatives.ts';
import { db } from '#adapters/db/index.ts';
import { PostgresVideoRepository } from '#adapters/db/videos.ts';
import { DerivativeMedia } from '#adapters/derivative-media.ts';
import { publishOutboxNow } from '#adapters/outbox.ts';
import { processDerivatives } from '#core/derivatives.ts';
import { logger } from '#shared/logger.ts';
import { outboxTopics } from '#shared/resources.ts';
import { processSqsBatch } from './sqs-batch.ts';

/**
 * The derivatives queue -> here: `derivatives.requested` outbox messages (`{videoId}`, written with
 * `video.ready` and with a PATCH of `downloads` or `posterTimeSeconds`). Each brings the video's MP4
 * downloads, storyboard and poster in line with its settings (core/derivatives.ts); a duplicate finds
 * everything made and changes nothing. A record that fails is retried alone, then dead-lettered.
 */
const Requested = z.strictObject({ videoId: z.uuid() });

async function derivativesRecord(record: SQSRecord): Promise<void> {
  const parsed = Requested.safeParse(JSON.parse(record.body));
  if (!parsed.success) {
    logger.warn('derivatives: not a derivatives.requested message; dropped', { messageId: record.messageId });
    return;
  }
  const database = await db();
  const derivatives = new PostgresDerivatives(database, {
    afterOutboxWrite: () => publishOutboxNow([outboxTopics.event]),
  });
  const outcome = await processDerivatives(
    {
      videos: {
        findById: (id) => new PostgresVideoRepository(database).findById(id),
        saveDerivatives: derivatives.saveDerivatives,
      },
      media: new DerivativeMedia(),
    },
    parsed.data.videoId,
  );
  logger.info('derivatives processed', { videoId: parsed.data.videoId, outcome });
}

export const handler = async (event: SQSEvent, context: Context) =>
  processSqsBatch(event, context, derivativesRecord);
