import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { CfHeaders, CfRequest, ViewerRequestFunction } from './cloudfront-function.ts';
import { isResponse } from './cloudfront-function.ts';
import type { LocalEndpoint } from './gateway.ts';

/**
 * The local stand-in for the media distribution, under /cdn/: every request goes through the very
 * CloudFront Function the distribution runs (lambdas/edge/playback-gate.js, through
 * local/cloudfront-function.ts), which checks the playback token and rewrites the path to the object's
 * key, or answers itself (403, 400, a CORS preflight). What it lets through is read from the media bucket,
 * and nothing else, with Range support and the object's own Cache-Control (what the cache policies and
 * S3 give in the cloud) and CORS for embedding from any origin, as the distribution's response headers
 * policy does.
 */
const CONTENT_TYPES: Record<string, string> = {
  m3u8: 'application/vnd.apple.mpegurl',
  m4s: 'video/iso.segment',
  mp4: 'video/mp4',
  vtt: 'text/vtt; charset=utf-8',
  jpg: 'image/jpeg',
};

const PREFIX = '/cdn';

export function cdnEndpoint(options: {
  s3: () => S3Client;
  bucket: string;
  gate: ViewerRequestFunction;
  embedOrigins: readonly string[];
}): LocalEndpoint {
  return async (req, res, url) => {
    if (!url.pathname.startsWith(`${PREFIX}/`)) return false;
    const request = viewerRequest(req, url);
    const result = await options.gate({
      version: '1.0',
      context: { eventType: 'viewer-request', requestId: randomUUID() },
      viewer: { ip: req.socket.remoteAddress ?? '127.0.0.1' },
      request,
    });
    if (isResponse(result)) {
      const body = typeof result.body === 'string' ? result.body : (result.body?.data ?? '');
      res.writeHead(result.statusCode, flatten(result.headers));
      res.end(body);
      return true;
    }
    const cors = corsHeaders(req.headers.origin, options.embedOrigins);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD, OPTIONS', ...cors });
      res.end();
      return true;
    }
    // The gate hands back a canonical /videos/<id>/... path; refuse anything else outright.
    if (!/^\/videos\/[0-9a-f-]{36}(\/[A-Za-z0-9_][A-Za-z0-9_.-]*)+$/.test(result.uri)) {
      throw new Error(`the playback gate let through a path it must not: ${result.uri}`);
    }
    const key = result.uri.slice(1);
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
        ...(object.ETag ? { ETag: object.ETag } : {}),
        // MP4 downloads are stored with `attachment` (a click saves the file; <video src> still plays it).
        ...(object.ContentDisposition ? { 'Content-Disposition': object.ContentDisposition } : {}),
        ...cors,
        'Access-Control-Expose-Headers': 'Content-Length, Content-Range',
        'X-Content-Type-Options': 'nosniff',
      });
      if (req.method === 'HEAD') {
        (object.Body as Readable | undefined)?.destroy();
        res.end();
      } else {
        // An object removed or replaced while it streams (a caption track deleted, a master rewritten) ends
        // the response with an error, as a CDN would cut it: a plain pipe would leave the client waiting.
        pipeline(object.Body as Readable, res).catch(() => res.destroy());
      }
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      const answer = (code: number, text: string) => {
        res.writeHead(code, {
          'Content-Type': 'text/plain; charset=utf-8',
          'Cache-Control': 'no-store',
          ...cors,
        });
        res.end(text);
      };
      if (status === 404 || (error as Error).name === 'NoSuchKey') answer(404, 'Not found');
      else if (status === 416) answer(416, 'Range not satisfiable');
      else throw error;
    }
    return true;
  };
}

/** The request as CloudFront hands it to a viewer-request function: the URI still percent-encoded. */
function viewerRequest(req: IncomingMessage, url: URL): CfRequest {
  const rawPath = (req.url ?? '/').split('?')[0]!;
  const headers: CfHeaders = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = { value: Array.isArray(value) ? value.join(',') : value };
  }
  const querystring: CfRequest['querystring'] = {};
  for (const [name, value] of url.searchParams) querystring[name] = { value };
  return {
    method: req.method ?? 'GET',
    uri: rawPath.slice(PREFIX.length),
    querystring,
    headers,
    cookies: {},
  };
}

function flatten(headers: CfHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, { value }] of Object.entries(headers ?? {})) out[name] = value;
  return out;
}

function corsHeaders(origin: string | undefined, allowed: readonly string[]): Record<string, string> {
  const allow = allowed.includes('*') ? '*' : origin && allowed.includes(origin) ? origin : undefined;
  return { ...(allow ? { 'Access-Control-Allow-Origin': allow } : {}), Vary: 'Origin' };
}
