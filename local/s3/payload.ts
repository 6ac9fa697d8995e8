import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { S3rverMiddleware } from 's3rver';
import { S3Error } from './errors.ts';
import { signedPayloadHash } from './sigv4.ts';

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/**
 * For a header-signed request whose signature covers a hex `x-amz-content-sha256`, checks that the body
 * is what was signed, as S3 does (400 XAmzContentSHA256Mismatch), before anything is stored: the body is
 * spooled to a temporary file while it is hashed, and s3rver then reads it from there.
 *
 * Not verified: UNSIGNED-PAYLOAD (presigned URLs, as in S3, where the signed content-length still
 * bounds a part), and the STREAMING-* forms of aws-chunked bodies, whose chunk signatures and trailing
 * checksums aws-chunked.ts decodes but does not check.
 */
export function verifyPayloadHash(): S3rverMiddleware {
  return async (ctx, next) => {
    const declared = signedPayloadHash(ctx)?.toLowerCase();
    if (!declared || !/^[0-9a-f]{64}$/.test(declared)) return next();
    const hasBody = Number(ctx.get('content-length') || 0) > 0 || ctx.get('transfer-encoding') !== '';
    if (!hasBody) {
      if (declared !== EMPTY_SHA256) throw mismatch(declared, EMPTY_SHA256);
      return next();
    }
    const dir = await mkdtemp(join(tmpdir(), 'videocloud-s3-payload-'));
    try {
      const file = join(dir, 'body');
      const hash = createHash('sha256');
      await pipeline(
        ctx.req,
        new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            hash.update(chunk);
            callback(null, chunk);
          },
        }),
        createWriteStream(file),
      );
      const computed = hash.digest('hex');
      if (computed !== declared) throw mismatch(declared, computed);
      ctx.req = createReadStream(file);
      await next();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
}

function mismatch(declared: string, computed: string): S3Error {
  const error = new S3Error(
    'XAmzContentSHA256Mismatch',
    "The provided 'x-amz-content-sha256' header does not match what was computed.",
    { ClientComputedContentSHA256: declared, S3ComputedContentSHA256: computed },
  );
  return error;
}
