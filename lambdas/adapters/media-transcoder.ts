import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  audioBitrates,
  audioDirectory,
  audioGroupId,
  type JobResult,
  measureSegments,
  mediaPlaylist,
  rungParts,
  type SegmentInfo,
} from '#core/media/chunks.ts';
import { masterPlaylist } from '#core/media/hls.ts';
import type { FfprobeOutput } from '#core/media/probe.ts';
import type { VideoEvidence } from '#core/media/work.ts';
import type { PipelineVideo, PlannedVideo, ReadyMedia, SourceMedia } from '#core/pipeline.ts';
import { encodeAudioJob, encodeVideoChunk, INIT_SEGMENT } from './ffmpeg/chunk.ts';
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
    // An earlier attempt killed mid-upload leaves part of this ladder under the same keys (the plan is
    // the video's, fixed at ingest), which this attempt overwrites. Nothing is removed first: a duplicate
    // delivery may run while another attempt finishes, or after it made the video ready.
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
    // Poster, thumbnail and master are created once, never replaced: after the first attempt to publish
    // them, the captions worker rewrites the master and a chosen poster time replaces the poster, and a
    // late duplicate must not undo either. A retry that finds them keeps what an earlier attempt of the
    // same ladder published.
    await Promise.all([
      media.putFile(result.posterPath, posterKey, { ifAbsent: true }),
      media.putFile(result.thumbnailPath, thumbnailKey, { ifAbsent: true }),
    ]);
    // The lease may have gone while the last renditions uploaded: then another worker owns the video
    // now, and this one must not publish a master.
    limits.signal?.throwIfAborted();
    await media.putFile(result.masterPath, masterPlaylistKey, { ifAbsent: true });
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

/** Parallel PUTs of one job's outputs. */
const UPLOADS_AT_ONCE = 8;

async function putAll(media: VideoMedia, files: ReadonlyArray<[file: string, key: string]>): Promise<void> {
  for (let i = 0; i < files.length; i += UPLOADS_AT_ONCE) {
    await Promise.all(files.slice(i, i + UPLOADS_AT_ONCE).map(([file, key]) => media.putFile(file, key)));
  }
}

/**
 * One job of a chunked ladder (core/media/chunks.ts): encoded from the source read by ranges through the
 * fence, its segments uploaded to their final keys (the same keys on every retry, so a repeat rewrites
 * the same objects). Playlists are the stitch's: nothing a player can reach names a segment yet.
 */
export async function transcodeJobFromStorage(
  video: PlannedVideo,
  job: number,
  limits: TranscodeLimits,
): Promise<JobResult> {
  const work = await mkdtemp(path.join(tmpdir(), `transcode-${video.id}-${job}-`));
  try {
    const media = new VideoMedia();
    const { plan, source, chunks } = video.media;
    const options = {
      container: source.container,
      plan,
      outputDir: path.join(work, 'out'),
      timeoutMs: limits.timeoutMs,
      signal: limits.signal,
    };
    const stored = new UploadedSources().stored(video.sourceKey);
    if (job >= chunks.audioJob) {
      // An audio chunk of every audio bitrate; the first audio job also cuts the poster.
      const audioChunk = chunks.audioChunks[job - chunks.audioJob];
      const poster = job === chunks.audioJob;
      const encoded = await withObjectFence(stored, (fence) =>
        encodeAudioJob({ input: fence, ...options, audioChunk, poster }),
      );
      const files: Array<[string, string]> = [];
      if (encoded.poster) {
        files.push([encoded.poster.posterPath, media.key(video.id, 'poster.jpg')]);
        files.push([encoded.poster.thumbnailPath, media.key(video.id, 'thumbnail.jpg')]);
      }
      for (const r of encoded.renditions) {
        const dir = audioDirectory(r.bitrate);
        if (audioChunk?.index === 0) files.push([r.initPath, media.key(video.id, `${dir}/${INIT_SEGMENT}`)]);
        for (const s of r.segments) files.push([s.file, media.key(video.id, `${dir}/${s.uri}`)]);
      }
      limits.signal?.throwIfAborted();
      await putAll(media, files);
      return {
        kind: 'audio',
        renditions: encoded.renditions.map((r) => ({
          bitrate: r.bitrate,
          segments: r.segments.map(segmentInfo),
        })),
      };
    }
    const chunk = chunks.chunks[job]!;
    const encoded = await withObjectFence(stored, (fence) =>
      encodeVideoChunk({ input: fence, ...options, chunk }),
    );
    const files: Array<[string, string]> = encoded.rungs.flatMap((r) => [
      // Every chunk's init segment is the same but for its edit list; the first chunk's serves them all.
      ...(chunk.startFrame === 0
        ? [[r.initPath, media.key(video.id, `${r.name}/${INIT_SEGMENT}`)] as [string, string]]
        : []),
      ...r.segments.map((s): [string, string] => [s.file, media.key(video.id, `${r.name}/${s.uri}`)]),
    ]);
    limits.signal?.throwIfAborted();
    await putAll(media, files);
    return {
      kind: 'video',
      rungs: encoded.rungs.map((r) => ({
        name: r.name,
        codec: r.codec,
        segments: r.segments.map(segmentInfo),
      })),
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

const segmentInfo = ({ uri, durationSeconds, bytes }: SegmentInfo): SegmentInfo => ({
  uri,
  durationSeconds,
  bytes,
});

/**
 * The stitch, once every job has landed: each rung's media playlist over all its chunks' segments (one
 * init segment, globally numbered segments, continuous decode times), the audio playlist, and then the
 * master playlist naming the audio group, last, so the CDN never serves a ladder still being written.
 */
export async function stitchFromResults(
  video: PlannedVideo,
  results: readonly JobResult[],
): Promise<ReadyMedia> {
  const media = new VideoMedia();
  const { plan, source, chunks } = video.media;
  const chunkResults = results.slice(0, chunks.chunks.length).map((r, i) => {
    if (r.kind !== 'video') throw new Error(`job ${i} of video ${video.id} is not a video chunk`);
    return r;
  });
  // Every audio rendition over all audio chunks, in order (one group per audio bitrate).
  const audioResults = results.slice(chunks.audioJob).map((r, i) => {
    if (r.kind !== 'audio') throw new Error(`job ${chunks.audioJob + i} of video ${video.id} is not audio`);
    return r;
  });
  const audioGroups = (chunks.audioChunks.length > 0 ? audioBitrates(plan) : []).map((bitrate) => {
    const segments = audioResults.flatMap(
      (r) => r.renditions.find((x) => x.bitrate === bitrate)?.segments ?? [],
    );
    return { bitrate, segments, measured: measureSegments(segments), dir: audioDirectory(bitrate) };
  });
  const renditions = plan.renditions.map((r) => {
    const parts = rungParts(plan, chunks, chunkResults, r.name);
    const segments = parts.flatMap((p) => p.segments);
    return { plan: r, codec: parts[0]!.codec, segments, measured: measureSegments(segments) };
  });
  await Promise.all([
    ...renditions.map((r) =>
      media.put(media.key(video.id, `${r.plan.name}/index.m3u8`), mediaPlaylist(r.segments, INIT_SEGMENT)),
    ),
    ...audioGroups.map((g) =>
      media.put(media.key(video.id, `${g.dir}/index.m3u8`), mediaPlaylist(g.segments, INIT_SEGMENT)),
    ),
  ]);
  const audioOf = (bitrate: number) => audioGroups.find((g) => g.bitrate === bitrate);
  const codecs = (codec: string) => (audioGroups.length > 0 ? `${codec},mp4a.40.2` : codec);
  const master = masterPlaylist(
    plan,
    renditions.map((r) => ({
      name: r.plan.name,
      playlistUri: `${r.plan.name}/index.m3u8`,
      averageBandwidth: r.measured.averageBitrate,
      peakBandwidth: r.measured.peakBitrate,
      codecs: codecs(r.codec),
      ...(audioOf(r.plan.audioBitrate) ? { audioGroupId: audioGroupId(r.plan.audioBitrate) } : {}),
    })),
    audioGroups.map((g) => ({
      groupId: audioGroupId(g.bitrate),
      uri: `${g.dir}/index.m3u8`,
      averageBandwidth: g.measured.averageBitrate,
      peakBandwidth: g.measured.peakBitrate,
    })),
  );
  const masterPlaylistKey = media.key(video.id, 'master.m3u8');
  // Created once (as the single-process path's): a retried stitch finds its master and keeps it.
  await media.put(masterPlaylistKey, master, { ifAbsent: true });
  return {
    durationSeconds: source.durationSeconds,
    width: source.width,
    height: source.height,
    masterPlaylistKey,
    posterKey: media.key(video.id, 'poster.jpg'),
    thumbnailKey: media.key(video.id, 'thumbnail.jpg'),
    renditions: renditions.map((r) => ({
      name: r.plan.name,
      width: r.plan.width,
      height: r.plan.height,
      bitrate: r.measured.averageBitrate + (audioOf(r.plan.audioBitrate)?.measured.averageBitrate ?? 0),
      codecs: codecs(r.codec),
      playlistKey: media.key(video.id, `${r.plan.name}/index.m3u8`),
    })),
  };
}
