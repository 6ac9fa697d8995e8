import { abandonUpload } from '#core/uploads.ts';
import type { CatalogDeps, MediaCleanupQueue, UploadAbandoner } from '#core/videos.ts';
import { catalog } from './catalog.ts';
import { sendToQueue } from './queue.ts';
import { uploadDeps } from './uploads.ts';

/**
 * What deleting a video needs beyond the catalog: the media cleanup queue, and the upload adapters
 * (S3, DynamoDB) to abort an upload still open. Only DELETE /v1/videos/{id} imports it, so the read and
 * update routes bundle none of the upload adapters.
 */
export async function deletionDeps(): Promise<
  CatalogDeps & { cleanup: MediaCleanupQueue; abandonUpload: UploadAbandoner }
> {
  return {
    ...(await catalog()),
    cleanup: (video) => sendToQueue('mediaCleanup', { videoId: video.id }),
    abandonUpload: async (uploadId) => abandonUpload(await uploadDeps(), uploadId),
  };
}
