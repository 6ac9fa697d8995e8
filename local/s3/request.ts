import type { S3rverContext } from 's3rver';
import { S3Error } from './errors.ts';

/**
 * Bucket and key of a path-style object request (`/bucket/key`), the only style the local endpoint
 * serves: clients use forcePathStyle and a loopback IP, which s3rver never reads as a virtual host.
 */
export function objectTarget(ctx: S3rverContext): { bucket: string; key: string } | undefined {
  const match = /^\/([^/]+)\/(.+)$/.exec(ctx.path);
  if (!match?.[1] || !match[2]) return undefined;
  try {
    return { bucket: decodeURIComponent(match[1]), key: decodeURIComponent(match[2]) };
  } catch {
    return undefined;
  }
}

/** The request body as text, refusing more than `limit` bytes so a runaway body cannot fill memory. */
export async function readText(ctx: S3rverContext, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      throw new S3Error('MaxMessageLengthExceeded', 'Your request was too big.');
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function sendXml(ctx: S3rverContext, xml: string): void {
  ctx.status = 200;
  ctx.type = 'application/xml';
  ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n${xml}`;
}
