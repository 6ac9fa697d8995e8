import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FfprobeOutput } from '#core/media/probe.ts';
import type { VideoEvidence } from '#core/media/work.ts';
import type { PipelineVideo, ReadyMedia, SourceMedia } from '#core/pipeline.ts';
import { transcodeToHls } from './ffmpeg/hls.ts';
import { inspectVideo, probe } from './ffmpeg/probe.ts';
import { UploadedSources, VideoMedia } from './media-objects.ts';
import { withObjectFence } from './object-fence.ts';

/**
 * ffprobe and ffmpeg on stored sources. Neither ever gets a storage URL: each run reads the one source
 * through its own loopback object fence (object-fence.ts), by ranged GETs, so the binaries connect to
 * 127.0.0.1 only, resolve no hostname, hold no credential, and stop when the worker that serves them does.
 */

/** ffprobe's description of an uploaded source. */
export function probeStoredSource(key: string): Promise<FfprobeOutput> {
  return withObjectFence(new UploadedSources().stored(key), (fence) => probe(fence));
}

/** The packet timestamps and first picture of an uploaded source's video stream. */
export function inspectStoredSource(key: string, streamIndex: number): Promise<VideoEvidence> {
  return withObjectFence(new UploadedSources().stored(key), (fence) => inspectVideo(fence, streamIndex));
}

export interface TranscodeLimits {
  /** The ladder's realtime budget (core/media/work.ts), already cut to the time the worker has left. */
  timeoutMs: number;
  /** Aborts when the worker must stop (it lost its queue message's lease). */
  signal?: AbortSignal;
}

/**
 * The ffmpeg path end to end: the ladder is encoded in one ffmpeg process reading the source by ranges
 * through the fence (no copy of the source on /tmp), each rendition is uploaded as soon as it is measured
 * while the poster is cut, and the master playlist goes up last, so the CDN never serves a ladder that is
 * still being written. /tmp is emptied whatever happens: a warm Lambda keeps it.
 * A missing source is the upload's loss, not a tool failure: it fails the video instead of retrying.
 */
export async function transcodeFromStorage(
  video: PipelineVideo & { sourceKey: string; media: SourceMedia },
  limits: TranscodeLimits,
): Promise<ReadyMedia> {
  const work = await mkdtemp(path.join(tmpdir(), `transcode-${video.id}-`));
  try {
    const media = new VideoMedia();
    // An earlier attempt killed mid-upload may have left part of a ladder; start from an empty prefix
    // so no stale segment outlives this attempt (the video is not ready, so nobody is watching it).
    await media.removeAll(video.id);
    const { plan, source } = video.media;
    const result = await withObjectFence(new UploadedSources().stored(video.sourceKey), (fence) =>
      transcodeToHls({
        input: fence,
        container: source.container,
        plan,
        outputDir: path.join(work, 'out'),
        timeoutMs: limits.timeoutMs,
        signal: limits.signal,
        onRenditionReady: (rendition) =>
          media.putRendition(rendition.directory, media.key(video.id, `${rendition.name}/`)),
      }),
    );
    const posterKey = media.key(video.id, 'poster.jpg');
    const thumbnailKey = media.key(video.id, 'thumbnail.jpg');
    const masterPlaylistKey = media.key(video.id, 'master.m3u8');
    await Promise.all([
      media.putFile(result.posterPath, posterKey),
      media.putFile(result.thumbnailPath, thumbnailKey),
    ]);
    // The lease may have gone while the last renditions uploaded: then another worker owns the video
    // now, and this one must not publish a master.
    limits.signal?.throwIfAborted();
    await media.putFile(result.masterPath, masterPlaylistKey);
    return {
      durationSeconds: source.durationSeconds,
      width: source.width,
      height: source.height,
      masterPlaylistKey,
      posterKey,
      thumbnailKey,
      renditions: result.renditions.map((r) => ({
        name: r.name,
        width: r.width,
        height: r.height,
        bitrate: r.bitrate,
        codecs: r.codecs,
        playlistKey: media.key(video.id, `${r.name}/${path.basename(r.playlistPath)}`),
      })),
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
