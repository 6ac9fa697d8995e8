import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback "object fence": a tiny HTTP server on 127.0.0.1 (an ephemeral port, one per probe or
 * transcode, closed after it) that serves exactly one stored object, with byte ranges, reading it through
 * the SDK by ranged GETs. ffmpeg and ffprobe are handed its URL instead of a presigned S3 URL, so:
 * - they never resolve a hostname (the npm static builds segfault in getaddrinfo on any URL with one);
 * - they never see a credential-bearing URL, and can reach nothing but this one object: every other path,
 *   and every method but GET/HEAD, gets a 404/405 (the path carries an unguessable token as well);
 * - what they read is pinned to the object's ETag at open time: a source replaced mid-read is an error,
 *   not a silent mix of two files;
 * - the fence knows whether storage itself failed a read, so the caller can tell "the file is bad"
 *   (permanent) from "storage was unreachable" (retry) when ffmpeg exits with an error;
 * - when the worker dies, the fence dies with it and ffmpeg's next read fails: nothing outlives its worker
 *   for long.
 *
 * Storage is read in chunks (growing to CHUNK_BYTES), each fetched whole and handed to ffmpeg as fast as
 * it takes it, one chunk read ahead: no storage connection sits idle while ffmpeg is busy encoding.
 */
export interface StoredObject {
  /** Size and ETag of the object, or a NoSuchKey-named error when it is gone. */
  head(): Promise<{ size: number; etag?: string }>;
  /** Bytes [start, end] (inclusive), all of them, of the revision with this ETag. */
  read(start: number, end: number, etag: string | undefined, signal: AbortSignal): Promise<Uint8Array>;
}

export interface FenceStats {
  /** Requests for the object (GET and HEAD) and bytes sent to the reader. */
  requests: number;
  bytesServed: number;
  /** Ranged reads from storage and the bytes they returned. */
  storageReads: number;
  bytesRead: number;
  /** Requests for anything else (refused). */
  refused: number;
}

export interface ObjectFence {
  /** http://127.0.0.1:PORT/<token>/source: what ffmpeg opens. */
  url: string;
  size: number;
  /** Strings to keep out of logs and failure reasons (the token). */
  redact: string[];
  stats: FenceStats;
  /** The first error storage gave while serving, if any: the reader's failure is then ours, not the file's. */
  storageFailure(): Error | undefined;
  /** True while a response is still being served. */
  busy(): boolean;
  close(): Promise<void>;
}

/**
 * Storage reads per request start small and double up to CHUNK_BYTES: a reader that hangs up after the
 * first bytes (every seek does: an MP4 whose index is at the end is read start, end, start again) costs
 * little, and a long sequential read still goes in large pieces.
 */
export const FIRST_CHUNK_BYTES = 256 * 1024;
export const CHUNK_BYTES = 8 * 1024 * 1024;

export async function openObjectFence(object: StoredObject): Promise<ObjectFence> {
  const { size, etag } = await object.head();
  const token = randomBytes(24).toString('hex');
  const path = `/${token}/source`;
  const stats: FenceStats = { requests: 0, bytesServed: 0, storageReads: 0, bytesRead: 0, refused: 0 };
  let failure: Error | undefined;
  const inFlight = new Set<AbortController>();

  const read = async (start: number, end: number, signal: AbortSignal) => {
    stats.storageReads += 1;
    try {
      const bytes = await object.read(start, end, etag, signal);
      if (bytes.length !== end - start + 1) {
        throw new Error(`storage returned ${bytes.length} bytes for a range of ${end - start + 1}`);
      }
      stats.bytesRead += bytes.length;
      return bytes;
    } catch (error) {
      if (!signal.aborted) failure ??= error instanceof Error ? error : new Error(String(error));
      throw error;
    }
  };

  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://fence');
    if (url.pathname !== path) {
      stats.refused += 1;
      res.writeHead(404, { 'Content-Length': '0' }).end();
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      stats.refused += 1;
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Length': '0' }).end();
      return;
    }
    stats.requests += 1;
    const range = parseRange(req.headers.range, size);
    if (range === 'unsatisfiable') {
      res.writeHead(416, { 'Content-Range': `bytes */${size}`, 'Content-Length': '0' }).end();
      return;
    }
    const [start, end] = range ?? [0, size - 1];
    const length = Math.max(0, end - start + 1);
    res.writeHead(range ? 206 : 200, {
      'Accept-Ranges': 'bytes',
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(length),
      ...(range ? { 'Content-Range': `bytes ${start}-${end}/${size}` } : {}),
    });
    if (req.method === 'HEAD' || length === 0) {
      res.end();
      return;
    }
    // The reader hangs up whenever it seeks: stop reading storage for it at once.
    const abort = new AbortController();
    inFlight.add(abort);
    res.on('close', () => abort.abort());
    try {
      let chunk = FIRST_CHUNK_BYTES;
      let next: Promise<Uint8Array> | undefined = read(start, Math.min(end, start + chunk - 1), abort.signal);
      for (let position = start; position <= end && next; ) {
        const bytes: Uint8Array = await next;
        const following: number = position + bytes.length;
        chunk = Math.min(CHUNK_BYTES, chunk * 2);
        next =
          following <= end ? read(following, Math.min(end, following + chunk - 1), abort.signal) : undefined;
        position = following;
        // Nobody waits on the read-ahead if the reader is gone; its rejection is not an error then.
        next?.catch(() => undefined);
        if (abort.signal.aborted) return;
        stats.bytesServed += bytes.length;
        if (!res.write(bytes)) await drained(res, abort.signal);
      }
      res.end();
    } catch {
      // Storage failed (recorded above) or the reader left: cut the response short, so the reader sees
      // an error rather than a short file.
      res.destroy();
    } finally {
      inFlight.delete(abort);
    }
  };

  const server = createServer((req, res) => void serve(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    size,
    redact: [token],
    stats,
    storageFailure: () => failure,
    busy: () => inFlight.size > 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const abort of inFlight) abort.abort();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Opens a fence, runs `use` with it, and closes it whatever happens. */
export async function withObjectFence<T>(
  object: StoredObject,
  use: (fence: ObjectFence) => Promise<T>,
): Promise<T> {
  const fence = await openObjectFence(object);
  try {
    return await use(fence);
  } finally {
    await fence.close();
  }
}

/**
 * One byte range (`bytes=a-b`, `bytes=a-`, `bytes=-n`), clamped to the object; undefined for none or for
 * a form we do not serve (several ranges: the whole object is a valid answer to those).
 */
export function parseRange(
  header: string | undefined,
  size: number,
): [number, number] | 'unsatisfiable' | undefined {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header?.trim() ?? '');
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0) return 'unsatisfiable';
    return [Math.max(0, size - suffix), size - 1];
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return [start, end];
}

function drained(res: ServerResponse, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    res.once('drain', done);
    signal.addEventListener('abort', done, { once: true });
  });
}
