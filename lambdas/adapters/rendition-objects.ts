import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { config } from '#shared/config.ts';
import { s3Client } from './aws.ts';
import type { StoredObject } from './object-fence.ts';

/**
 * A published HLS rendition as the derivatives worker reads it: its playlist (init segment, media
 * segments and their times), and any run of its segments behind the init segment as ONE stored object
 * (a fragmented MP4), for an object fence to serve to ffmpeg. ffmpeg never opens the playlist (no HLS
 * demuxer, no hostnames): it reads one loopback URL, and every byte comes from ranged GETs pinned to
 * the ETag each part had when the fence opened.
 */
export interface RenditionSegment {
  key: string;
  startSeconds: number;
  durationSeconds: number;
}

export interface RenditionLayout {
  initKey: string;
  segments: RenditionSegment[];
}

export async function readRendition(playlistKey: string): Promise<RenditionLayout> {
  const bucket = config().mediaBucket;
  const object = await s3Client().send(new GetObjectCommand({ Bucket: bucket, Key: playlistKey }));
  const text = (await object.Body?.transformToString('utf-8')) ?? '';
  return parseRenditionPlaylist(playlistKey, text);
}

/** The init segment and media segments of an fMP4 media playlist, as keys beside the playlist. */
export function parseRenditionPlaylist(playlistKey: string, text: string): RenditionLayout {
  const dir = playlistKey.slice(0, playlistKey.lastIndexOf('/') + 1);
  const local = (uri: string) => {
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(uri)) throw new Error(`unexpected segment URI "${uri}"`);
    return `${dir}${uri}`;
  };
  let initKey: string | undefined;
  let pending: number | undefined;
  let at = 0;
  const segments: RenditionSegment[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const map = /^#EXT-X-MAP:.*URI="([^"]+)"/.exec(line);
    if (map) initKey = local(map[1]!);
    else if (line.startsWith('#EXTINF:')) pending = Number.parseFloat(line.slice(8));
    else if (line && !line.startsWith('#') && pending !== undefined) {
      segments.push({ key: local(line), startSeconds: at, durationSeconds: pending });
      at += pending;
      pending = undefined;
    }
  }
  if (!initKey) throw new Error(`${playlistKey} has no EXT-X-MAP: not an fMP4 rendition`);
  if (segments.length === 0) throw new Error(`${playlistKey} lists no segments`);
  return { initKey, segments };
}

/**
 * The media playlist of the audio a rendition plays with, when its audio is a rendition group of its
 * own (the chunked ladder: `AUDIO="audio-64k"` on the variant, its EXT-X-MEDIA naming `audio/64k/...`),
 * read off the master playlist; undefined when the rendition carries its audio itself.
 */
export function audioPlaylistOf(
  masterKey: string,
  master: string,
  renditionPlaylistKey: string,
): string | undefined {
  const dir = masterKey.slice(0, masterKey.lastIndexOf('/') + 1);
  const lines = master.split(/\r?\n/).map((line) => line.trim());
  const variant = lines.findIndex((line, i) => i > 0 && `${dir}${line}` === renditionPlaylistKey);
  const group = variant > 0 ? /[:,]AUDIO="([^"]+)"/.exec(lines[variant - 1] ?? '')?.[1] : undefined;
  if (!group) return undefined;
  const media = lines.find(
    (line) =>
      line.startsWith('#EXT-X-MEDIA:') && line.includes('TYPE=AUDIO') && line.includes(`GROUP-ID="${group}"`),
  );
  const uri = media && /[:,]URI="([^"]+)"/.exec(media)?.[1];
  if (!uri || !/^[A-Za-z0-9_][A-Za-z0-9_./-]*$/.test(uri) || uri.includes('..')) {
    throw new Error(`${masterKey} names audio group "${group}" without a usable playlist`);
  }
  return `${dir}${uri}`;
}

/** The objects `keys` of the media bucket, end to end, as one object (sizes and ETags read at head()). */
export function concatenatedObject(keys: readonly string[]): StoredObject {
  const bucket = config().mediaBucket;
  let parts: Array<{ key: string; start: number; size: number; etag: string | undefined }> = [];
  return {
    async head() {
      const heads: Array<{ size: number; etag: string | undefined }> = [];
      for (let i = 0; i < keys.length; i += 16) {
        heads.push(
          ...(await Promise.all(
            keys.slice(i, i + 16).map(async (key) => {
              const head = await s3Client().send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
              return { size: head.ContentLength ?? 0, etag: head.ETag };
            }),
          )),
        );
      }
      let start = 0;
      parts = keys.map((key, i) => {
        const part = { key, start, size: heads[i]!.size, etag: heads[i]!.etag };
        start += part.size;
        return part;
      });
      return { size: start };
    },
    async read(start, end, _etag, signal) {
      const pieces = parts.filter((p) => p.size > 0 && p.start <= end && p.start + p.size - 1 >= start);
      const chunks = await Promise.all(
        pieces.map(async (part) => {
          const from = Math.max(start, part.start) - part.start;
          const to = Math.min(end, part.start + part.size - 1) - part.start;
          const object = await s3Client().send(
            new GetObjectCommand({
              Bucket: bucket,
              Key: part.key,
              Range: `bytes=${from}-${to}`,
              IfMatch: part.etag,
            }),
            { abortSignal: signal },
          );
          if (!object.Body) throw new Error(`no body for s3://${bucket}/${part.key}`);
          return object.Body.transformToByteArray();
        }),
      );
      return Buffer.concat(chunks);
    },
  };
}
