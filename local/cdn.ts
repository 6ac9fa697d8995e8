import { createPublicKey, createVerify, type KeyObject } from 'node:crypto';
import type { Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { LocalEndpoint } from './gateway.ts';

/**
 * The local stand-in for the CloudFront media distribution, under /cdn/. Like the distribution (a
 * trusted key group on every behavior) it serves nothing unsigned: each request must carry a custom
 * policy, its RSA signature by the signing key, and the key id; the policy's resource must cover the
 * requested path and must not have expired. Objects come from the media bucket, with Range support.
 * Resources are compared by path, since loopback has several host names.
 */
const CONTENT_TYPES: Record<string, string> = {
  m3u8: 'application/vnd.apple.mpegurl',
  m4s: 'video/iso.segment',
  mp4: 'video/mp4',
  ts: 'video/mp2t',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
};

export function cdnEndpoint(options: {
  s3: () => S3Client;
  bucket: string;
  keyPairId: string;
  publicKeyPem: string;
}): LocalEndpoint {
  const publicKey = createPublicKey(options.publicKeyPem);
  return async (req, res, url) => {
    if (!url.pathname.startsWith('/cdn/')) return false;
    const deny = (status: number, message: string) => {
      res.writeHead(status, {
        'Content-Type': 'text/plain; charset=utf-8',
        'Access-Control-Allow-Origin': '*',
      });
      res.end(message);
      return true;
    };
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'Access-Control-Allow-Origin': '*',
        'Access-Control-Allow-Methods': 'GET, HEAD',
        'Access-Control-Allow-Headers': 'Range',
        'Access-Control-Max-Age': '600',
      });
      res.end();
      return true;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return deny(405, 'GET or HEAD only');
    const refusal = verifySignedUrl(url, options.keyPairId, publicKey);
    if (refusal) return deny(403, refusal);

    const key = decodeURIComponent(url.pathname.slice('/cdn/'.length));
    try {
      const object = await options.s3().send(
        new GetObjectCommand({
          Bucket: options.bucket,
          Key: key,
          ...(req.headers.range ? { Range: req.headers.range } : {}),
        }),
      );
      const extension = key.split('.').pop()?.toLowerCase() ?? '';
      res.writeHead(object.ContentRange ? 206 : 200, {
        'Content-Type': CONTENT_TYPES[extension] ?? object.ContentType ?? 'application/octet-stream',
        ...(object.ContentLength !== undefined ? { 'Content-Length': String(object.ContentLength) } : {}),
        ...(object.ContentRange ? { 'Content-Range': object.ContentRange } : {}),
        'Accept-Ranges': 'bytes',
        'Cache-Control': object.CacheControl ?? 'public, max-age=60',
        'Access-Control-Allow-Origin': '*',
        'Access-Control-Expose-Headers': 'Content-Length, Content-Range',
        'X-Content-Type-Options': 'nosniff',
      });
      if (req.method === 'HEAD') {
        (object.Body as Readable | undefined)?.destroy();
        res.end();
      } else {
        (object.Body as Readable).pipe(res);
      }
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404 || (error as Error).name === 'NoSuchKey') return deny(404, 'Not found');
      if (status === 416) return deny(416, 'Range not satisfiable');
      throw error;
    }
    return true;
  };
}

/** Returns why a request is refused, or undefined when its CloudFront-style signature holds. */
export function verifySignedUrl(
  url: URL,
  keyPairId: string,
  publicKey: KeyObject,
  now = Date.now(),
): string | undefined {
  const policyParam = url.searchParams.get('Policy');
  const signature = url.searchParams.get('Signature');
  if (!policyParam || !signature || !url.searchParams.get('Key-Pair-Id'))
    return 'Missing Key-Pair-Id, Policy or Signature';
  if (url.searchParams.get('Key-Pair-Id') !== keyPairId) return 'Unknown Key-Pair-Id';
  const policyJson = Buffer.from(fromCloudFrontBase64(policyParam), 'base64').toString('utf8');
  const algorithm = url.searchParams.get('Hash-Algorithm') === 'SHA256' ? 'RSA-SHA256' : 'RSA-SHA1';
  const verifier = createVerify(algorithm);
  verifier.update(policyJson);
  if (!verifier.verify(publicKey, Buffer.from(fromCloudFrontBase64(signature), 'base64')))
    return 'Signature does not match';
  let statement:
    | { Resource?: string; Condition?: { DateLessThan?: { 'AWS:EpochTime'?: number } } }
    | undefined;
  try {
    statement = (JSON.parse(policyJson) as { Statement?: (typeof statement)[] }).Statement?.[0];
  } catch {
    return 'Malformed policy';
  }
  const expires = statement?.Condition?.DateLessThan?.['AWS:EpochTime'];
  if (!expires || now / 1000 >= expires) return 'Access denied: the URL has expired';
  const resourcePath = statement?.Resource
    ? new URL(statement.Resource.replaceAll('*', '__STAR__')).pathname
    : '';
  const pattern = new RegExp(`^${resourcePath.split('__STAR__').map(escapeRegExp).join('.*')}$`);
  if (!pattern.test(url.pathname)) return 'Access denied: the policy does not cover this resource';
  return undefined;
}

const fromCloudFrontBase64 = (value: string) =>
  value.replaceAll('-', '+').replaceAll('_', '=').replaceAll('~', '/');
const escapeRegExp = (value: string) => value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
