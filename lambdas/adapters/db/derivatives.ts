import type { DerivativesPorts } from '#core/derivatives.ts';
import { recordVideoEvent } from './events.ts';
import type { VideoRow } from './schema.ts';
import { type Db, setValues, sql } from './sql.ts';

/**
 * What the derivatives worker saves: the made files and the poster keys, with `video.updated`, in one
 * transaction, only while the settings they were made for are still the video's (a PATCH meanwhile wrote
 * its own outbox message, whose run saves instead).
 */
export class PostgresDerivatives {
  constructor(
    private readonly db: Db,
    private readonly options: { afterOutboxWrite?: () => Promise<void> } = {},
  ) {}

  saveDerivatives: DerivativesPorts['videos']['saveDerivatives'] = async (
    videoId,
    expected,
    state,
    poster,
  ) => {
    const saved = await this.db.transaction(async (tx) => {
      const row = await tx.first<VideoRow>(
        sql`update videos set ${setValues({
          derivatives: JSON.stringify(state),
          ...(poster ? { poster_key: poster.posterKey, thumbnail_key: poster.thumbnailKey } : {}),
          updated_at: sql`now()`,
        })}
            where id = ${videoId} and status = 'ready' and deleted_at is null
              and downloads = ${expected.downloads}
              and poster_time_seconds ${
                expected.posterTimeSeconds === null ? sql`is null` : sql`= ${expected.posterTimeSeconds}`
              }
            returning *`,
      );
      if (row) await recordVideoEvent(tx, 'video.updated', row);
      return row !== undefined;
    });
    if (saved) await this.options.afterOutboxWrite?.().catch(() => undefined);
    return saved;
  };
}
