import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DeleteObjectsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { DerivativesPorts, PosterKeys } from '#core/derivatives.ts';
import { planStoryboard, storyboardVtt } from '#core/media/storyboard.ts';
import type { Rendition, VideoRecord } from '#core/video.ts';
import { config } from '#shared/config.ts';
import { objectKeys } from '#shared/resources.ts';
import { s3Client } from './aws.ts';
import { type Binaries, resolveBinaries } from './ffmpeg/binaries.ts';
import { remuxToMp4 } from './ffmpeg/mp4.ts';
import { extractFrame } from './ffmpeg/poster.ts';
import { makeSprites } from './ffmpeg/storyboard.ts';
import { VideoMedia } from './media-objects.ts';
import { withObjectFence } from './object-fence.ts';
import {
  audioPlaylistOf,
  concatenatedObject,
  type RenditionLayout,
  readRendition,
} from './rendition-objects.ts';

/** Thumbnails are this wide, as the transcoder makes them. */
const THUMBNAIL_WIDTH = 320;

/**
 * The derivatives worker's media port: every input is a published rendition read through a loopback
 * object fence (ffmpeg opens one 127.0.0.1 URL, never a hostname, never the playlist), every output is
 * made in a private temporary directory and published under the video's media prefix.
 */
export class DerivativeMedia implements Omit<DerivativesPorts['media'], never> {
  private readonly media = new VideoMedia();
  private binaries?: Promise<Binaries>;

  constructor(private readonly signal?: AbortSignal) {}

  private tool(input: { url: string; redact: string[]; storageFailure: () => Error | undefined }) {
    this.binaries ??= resolveBinaries();
    return this.binaries.then((binaries) => ({ binaries, input, signal: this.signal }));
  }

  downloadKey(video: VideoRecord, rendition: Rendition): string {
    return this.media.key(video.id, objectKeys.download(rendition.name));
  }

  async makeDownload(video: VideoRecord, rendition: Rendition) {
    const segmentsOf = (layout: RenditionLayout) => [layout.initKey, ...layout.segments.map((s) => s.key)];
    const keys = segmentsOf(await readRendition(rendition.playlistKey));
    // A chunked ladder's renditions are video only: the download takes the audio the variant plays with.
    const master = video.masterPlaylistKey;
    const masterText = master ? await this.media.readText(master) : undefined;
    const audioPlaylist =
      master && masterText ? audioPlaylistOf(master, masterText, rendition.playlistKey) : undefined;
    const audioKeys = audioPlaylist ? segmentsOf(await readRendition(audioPlaylist)) : undefined;
    return inTemporaryDirectory(async (dir) => {
      const file = path.join(dir, `${rendition.name}.mp4`);
      await withObjectFence(concatenatedObject(keys), async (fence) => {
        const tool = await this.tool(fence);
        if (!audioKeys) return remuxToMp4(tool, file);
        return withObjectFence(concatenatedObject(audioKeys), async (audio) =>
          remuxToMp4({ ...tool, audio }, file),
        );
      });
      const { size } = await stat(file);
      const key = this.downloadKey(video, rendition);
      await s3Client().send(
        new PutObjectCommand({
          Bucket: config().mediaBucket,
          Key: key,
          Body: createReadStream(file),
          ContentLength: size,
          ContentType: 'video/mp4',
          // Same key, same bytes (a copy of immutable segments): cacheable like them.
          CacheControl: 'public, max-age=31536000, immutable',
          ContentDisposition: `attachment; filename="${video.id}-${rendition.name}.mp4"`,
        }),
      );
      return { name: rendition.name, width: rendition.width, height: rendition.height, size, key };
    });
  }

  async makeStoryboard(video: VideoRecord, rendition: Rendition): Promise<string> {
    const layout = await readRendition(rendition.playlistKey);
    const duration = video.durationSeconds ?? layout.segments.reduce((sum, s) => sum + s.durationSeconds, 0);
    const plan = planStoryboard({
      durationSeconds: duration,
      width: rendition.width,
      height: rendition.height,
    });
    const keys = [layout.initKey, ...layout.segments.map((s) => s.key)];
    return inTemporaryDirectory(async (dir) => {
      const sprites = await withObjectFence(concatenatedObject(keys), async (fence) =>
        makeSprites(await this.tool(fence), plan, dir),
      );
      if (sprites.length === 0) throw new Error('the storyboard run made no sprite sheet');
      for (const name of sprites) {
        await this.media.put(
          this.media.key(video.id, objectKeys.storyboardSprite(name)),
          await readFile(path.join(dir, name)),
        );
      }
      // Cues only for the tiles of sheets that exist: every #xywh points inside a sprite that is there.
      const perSheet = plan.columns * plan.rows;
      const made = {
        ...plan,
        tiles: Math.min(plan.tiles, sprites.length * perSheet),
        sheets: sprites.length,
      };
      const key = this.media.key(video.id, objectKeys.storyboardVtt);
      await this.media.put(key, storyboardVtt(made, duration));
      return key;
    });
  }

  async makePoster(video: VideoRecord, rendition: Rendition, atSeconds: number): Promise<PosterKeys> {
    const layout = await readRendition(rendition.playlistKey);
    const segment =
      layout.segments.find((s) => atSeconds < s.startSeconds + s.durationSeconds) ??
      layout.segments[layout.segments.length - 1]!;
    const offset = Math.max(0, Math.min(atSeconds - segment.startSeconds, segment.durationSeconds - 0.05));
    const millis = Math.round(atSeconds * 1000);
    const thumbHeight = Math.max(
      2,
      2 * Math.round((THUMBNAIL_WIDTH * rendition.height) / rendition.width / 2),
    );
    return inTemporaryDirectory(async (dir) => {
      const posterPath = path.join(dir, 'poster.jpg');
      const thumbnailPath = path.join(dir, 'thumbnail.jpg');
      await withObjectFence(concatenatedObject([layout.initKey, segment.key]), async (fence) =>
        extractFrame(
          await this.tool(fence),
          offset,
          { width: rendition.width, height: rendition.height, path: posterPath },
          { width: THUMBNAIL_WIDTH, height: thumbHeight, path: thumbnailPath },
        ),
      );
      const posterKey = this.media.key(video.id, objectKeys.chosenPoster(millis));
      const thumbnailKey = this.media.key(video.id, objectKeys.chosenThumbnail(millis));
      await this.media.putFile(posterPath, posterKey);
      await this.media.putFile(thumbnailPath, thumbnailKey);
      return { posterKey, thumbnailKey };
    });
  }

  async remove(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      await s3Client().send(
        new DeleteObjectsCommand({
          Bucket: config().mediaBucket,
          Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true },
        }),
      );
    }
  }
}

async function inTemporaryDirectory<T>(use: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), 'videocloud-derivative-'));
  try {
    return await use(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
