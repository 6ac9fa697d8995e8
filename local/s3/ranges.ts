import type { FilesystemStore, S3rverMiddleware } from 's3rver';
import { objectTarget } from './request.ts';

/**
 * s3rver reads a suffix range (`bytes=-N`, the last N bytes) as `bytes=0-N`. Rewritten here to the
 * equivalent explicit range, which it serves correctly, since players and probes ask for file tails.
 */
export function suffixRanges(store: FilesystemStore): S3rverMiddleware {
  return async (ctx, next) => {
    const suffix = /^bytes=-(\d+)$/.exec(ctx.get('range'))?.[1];
    const target = objectTarget(ctx);
    if (suffix !== undefined && target && (ctx.method === 'GET' || ctx.method === 'HEAD')) {
      // A missing object is left to s3rver, which answers NoSuchKey.
      const metadata = await store.getMetadata(target.bucket, target.key).catch(() => undefined);
      if (metadata) {
        const size = Number(metadata['content-length']);
        ctx.headers.range = `bytes=${Math.max(0, size - Number(suffix))}-`;
      }
    }
    return next();
  };
}
