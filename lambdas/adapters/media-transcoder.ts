import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MediaRejectedError } from '#core/media/errors.ts';
import type { PipelineVideo, ReadyMedia, SourceMedia } from '#core/pipeline.ts';
import { transcodeToHls } from './ffmpeg.ts';
import { UploadedSources, VideoMedia } from './media-objects.ts';

/**
 * The ffmpeg path end to end: the source is downloaded to /tmp (ffmpeg then opens one local file and
 * nothing else), the ladder is encoded in one ffmpeg process, and each rendition is uploaded as soon as
 * it is measured while the poster is cut; the master playlist goes up last, so the CDN never serves a
 * ladder that is still being written. /tmp is emptied whatever happens: a warm Lambda keeps it.
 * A missing source is the upload's loss, not a tool failure: it fails the video instead of retrying.
 */
export async function transcodeFromStorage(
  video: PipelineVideo & { sourceKey: string; media: SourceMedia },
  timeoutMs: number,
): Promise<ReadyMedia> {
  const work = await mkdtemp(path.join(tmpdir(), `transcode-${video.id}-`));
  try {
    const sources = new UploadedSources();
    const media = new VideoMedia();
    const input = path.join(work, 'source');
    // An earlier attempt killed mid-upload may have left part of a ladder; start from an empty prefix
    // so no stale segment outlives this attempt (the video is not ready, so nobody is watching it).
    await Promise.all([download(sources, video.sourceKey, input), media.removeAll(video.id)]);
    const { plan, source } = video.media;
    const result = await transcodeToHls({
      input,
      container: source.container,
      plan,
      outputDir: path.join(work, 'out'),
      timeoutMs,
      onRenditionReady: (rendition) =>
        media.putRendition(rendition.directory, media.key(video.id, `${rendition.name}/`)),
    });
    const posterKey = media.key(video.id, 'poster.jpg');
    const thumbnailKey = media.key(video.id, 'thumbnail.jpg');
    const masterPlaylistKey = media.key(video.id, 'master.m3u8');
    await Promise.all([
      media.putFile(result.posterPath, posterKey),
      media.putFile(result.thumbnailPath, thumbnailKey),
    ]);
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

async function download(sources: UploadedSources, key: string, file: string): Promise<void> {
  try {
    await sources.download(key, file);
  } catch (error) {
    if ((error as { name?: string }).name !== 'NoSuchKey') throw error;
    throw new MediaRejectedError('the uploaded file is no longer in storage; upload the video again');
  }
}
