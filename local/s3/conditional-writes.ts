import type { FilesystemStore, S3rverMiddleware } from 's3rver';
import { S3Error } from './errors.ts';
import { objectTarget } from './request.ts';

/**
 * S3's conditional writes, which s3rver ignores: a PutObject with `If-None-Match: *` creates the object
 * only if the key holds none, and answers 412 PreconditionFailed otherwise. Writes to one key are taken
 * one at a time here, so of two racing creators exactly one wins (S3 answers the loser 412 or 409).
 * Any other If-None-Match value is refused, as S3 refuses it, rather than silently ignored.
 */
export function conditionalWrites(store: FilesystemStore): S3rverMiddleware {
  const writing = new Map<string, Promise<void>>();
  return async (ctx, next) => {
    const condition = ctx.get('if-none-match');
    const target = objectTarget(ctx);
    if (!condition || ctx.method !== 'PUT' || !target || ctx.query.uploadId !== undefined) return next();
    if (condition !== '*') {
      throw new S3Error(
        'NotImplemented',
        'A header you provided implies functionality that is not implemented',
        {
          Header: 'If-None-Match',
        },
      );
    }
    const id = `${target.bucket}/${target.key}`;
    while (writing.has(id)) await writing.get(id);
    let release = () => {};
    writing.set(id, new Promise<void>((resolve) => (release = resolve)));
    try {
      const existing = await store.getMetadata(target.bucket, target.key).catch(() => undefined);
      if (existing) {
        throw new S3Error(
          'PreconditionFailed',
          'At least one of the pre-conditions you specified did not hold',
          {
            Condition: 'If-None-Match',
          },
        );
      }
      await next();
    } finally {
      writing.delete(id);
      release();
    }
  };
}
