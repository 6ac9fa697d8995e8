import { type Kysely, sql } from 'kysely';
import type { DerivativesPorts } from '#core/derivatives.ts';
import { recordVideoEvent } from './events.ts';
import type { Database } from './schema.ts';

/**
 * What the derivatives worker saves: the made files and the poster keys, with `video.updated`, in one
 * transaction, only while the settings they were made for are still the video's (a PATCH meanwhile wrote
 * its own outbox message, whose run saves instead).
 */
export class PostgresDerivatives {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: { afterOutboxWrite?: () => Promise<void> } = {},
  ) {}

  saveDerivatives: DerivativesPorts['videos']['saveDerivatives'] = async (
    videoId,
    expected,
    state,
    poster,
  ) => {
    const saved = await this.db.transaction().execute(async (tx) => {
      let update = tx
        .updateTable('videos')
        .set({
          derivatives: JSON.stringify(state),
          ...(poster ? { poster_key: poster.posterKey, thumbnail_key: poster.thumbnailKey } : {}),
          updated_at: sql`now()`,
        })
        .where('id', '=', videoId)
        .where('status', '=', 'ready')
        .where('deleted_at', 'is', null)
        .where('downloads', '=', expected.downloads);
      update =
        expected.posterTimeSeconds === null
          ? update.where('poster_time_seconds', 'is', null)
          : update.where('poster_time_seconds', '=', expected.posterTimeSeconds);
      const row = await update.returningAll().executeTakeFirst();
      if (row) await recordVideoEvent(tx, 'video.updated', row);
      return row !== undefined;
    });
    if (saved) await this.options.afterOutboxWrite?.().catch(() => undefined);
    return saved;
  };
}
