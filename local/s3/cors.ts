import type { FilesystemStore, S3rverMiddleware } from 's3rver';
import { objectTarget } from './request.ts';

/**
 * Two gaps in s3rver's CORS handling that a browser notices:
 * - errors raised in front of its router (a bad signature, NoSuchUpload) would carry no CORS headers, so
 *   the page could not read the 403 or 404 and would see only "Failed to fetch". S3 sends them on errors.
 * - a preflight is always answered with `Access-Control-Allow-Origin: *`; S3 echoes the origin when the
 *   matching rule names origins rather than `*`.
 */
export function corsForExtensions(store: FilesystemStore): S3rverMiddleware {
  return async (ctx, next) => {
    const origin = ctx.get('origin');
    const preflight = ctx.method === 'OPTIONS';
    const matchingRule = async () => {
      const target = objectTarget(ctx);
      if (!origin || !target) return undefined;
      const config = await store.getSubresource(target.bucket, undefined, 'cors').catch(() => null);
      return config?.matchRule(origin, preflight ? ctx.get('access-control-request-method') : ctx.method);
    };
    try {
      await next();
    } catch (error) {
      const rule = preflight ? undefined : await matchingRule();
      if (rule) {
        // s3rver's error handler keeps access-control-* and vary headers and drops the rest.
        ctx.set('Access-Control-Allow-Origin', rule.hasWildcardOrigin ? '*' : origin);
        if (rule.exposeHeaders.length > 0)
          ctx.set('Access-Control-Expose-Headers', rule.exposeHeaders.join(', '));
        ctx.set('Vary', 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method');
      }
      throw error;
    }
    if (preflight && ctx.status === 200) {
      const rule = await matchingRule();
      if (rule && !rule.hasWildcardOrigin) ctx.set('Access-Control-Allow-Origin', origin);
    }
  };
}
