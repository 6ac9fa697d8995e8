import type { PostgresVideoRepository } from '#adapters/db/videos.ts';
import { uploadDeps } from '#adapters/uploads.ts';
import { expireUpload } from '#core/uploads.ts';
import { logger } from '#shared/logger.ts';

/**
 * Every few minutes: uploads whose session expired before anyone completed them. Storage drops their
 * parts and their video goes, with `upload.expired` and `video.deleted` (one transaction). A video whose
 * session is already gone from the state table is deleted all the same.
 */
const BATCH = 100;

export const handler = async (): Promise<{ expired: number }> => {
  const deps = await uploadDeps();
  const videos = deps.videos as PostgresVideoRepository;
  let expired = 0;
  for (const { videoId, uploadId } of await videos.expiredUploads(new Date(), BATCH)) {
    try {
      const session = uploadId ? await deps.sessions.get(uploadId) : undefined;
      const done = session ? await expireUpload(deps, session.uploadId) : await videos.softDelete(videoId);
      if (done) expired++;
    } catch (error) {
      logger.warn('upload expiry failed; the next sweep tries again', { videoId, error });
    }
  }
  if (expired > 0) logger.info('expired uploads removed', { expired });
  return { expired };
};
