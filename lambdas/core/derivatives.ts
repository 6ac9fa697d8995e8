import type { DerivativesState, DownloadFile, DownloadSetting, Rendition, VideoRecord } from './video.ts';

/**
 * Derivatives of a ready video (API.md "Downloads", "Storyboard and poster"): progressive MP4 downloads
 * remuxed from the renditions, a storyboard (sprite sheets + WebVTT), and the poster the owner chose.
 * The derivatives worker (events/derivatives.ts) brings what was made in line with what is wanted, from
 * the video as it is now, so a duplicated or late message changes nothing: whatever is already made is
 * kept, and the result is saved only if the settings it was made for are still the video's.
 */
export const EMPTY_DERIVATIVES: DerivativesState = {
  downloads: [],
  storyboardKey: null,
  posterTimeSeconds: null,
  automaticPoster: null,
};

/** Renditions are kept tallest first: `highest` is the top rung. */
export function wantedDownloads(setting: DownloadSetting, renditions: readonly Rendition[]): Rendition[] {
  if (setting === 'none' || renditions.length === 0) return [];
  return setting === 'highest' ? [renditions[0]!] : [...renditions];
}

/** What the video resource lists: files made and still wanted, tallest first. */
export function listedDownloads(
  video: Pick<VideoRecord, 'downloads' | 'renditions' | 'derivatives'>,
): DownloadFile[] {
  const made = new Map((video.derivatives?.downloads ?? []).map((file) => [file.name, file]));
  return wantedDownloads(video.downloads, video.renditions).flatMap((r) => made.get(r.name) ?? []);
}

export interface PosterKeys {
  posterKey: string;
  thumbnailKey: string | null;
}

export interface DerivativesPorts {
  videos: {
    findById(id: string): Promise<VideoRecord | undefined>;
    /**
     * Saves `state` (and the poster keys, when given) and records `video.updated`, in one transaction, if
     * the video is still ready, not deleted, and its settings are still `expected`; false otherwise.
     */
    saveDerivatives(
      videoId: string,
      expected: { downloads: DownloadSetting; posterTimeSeconds: number | null },
      state: DerivativesState,
      poster: PosterKeys | undefined,
    ): Promise<boolean>;
  };
  media: {
    /** Remuxes the rendition into a faststart MP4 under the video's prefix (a fixed key per rendition). */
    makeDownload(video: VideoRecord, rendition: Rendition): Promise<DownloadFile>;
    /** Sprites and their WebVTT under the video's prefix; returns the WebVTT's key. */
    makeStoryboard(video: VideoRecord, rendition: Rendition): Promise<string>;
    /** A poster and thumbnail of the frame at `atSeconds`, under keys of their own for that time. */
    makePoster(video: VideoRecord, rendition: Rendition, atSeconds: number): Promise<PosterKeys>;
    /** The key a rendition's download is kept under. */
    downloadKey(video: VideoRecord, rendition: Rendition): string;
    remove(keys: readonly string[]): Promise<void>;
  };
}

export async function processDerivatives(ports: DerivativesPorts, videoId: string): Promise<string> {
  const video = await ports.videos.findById(videoId);
  if (!video || video.deletedAt || video.status !== 'ready') return 'ignored: the video is not ready';
  if (video.renditions.length === 0) return 'ignored: the video has no renditions';
  const before = video.derivatives ?? EMPTY_DERIVATIVES;
  const done: string[] = [];

  let storyboardKey = before.storyboardKey;
  if (!storyboardKey) {
    // The smallest rung: tiles are 160 px wide, and it is the quickest to decode.
    storyboardKey = await ports.media.makeStoryboard(video, video.renditions[video.renditions.length - 1]!);
    done.push('storyboard');
  }

  const wanted = wantedDownloads(video.downloads, video.renditions);
  const made = new Map(before.downloads.map((file) => [file.name, file]));
  const downloads: DownloadFile[] = [];
  for (const rendition of wanted) {
    const existing = made.get(rendition.name);
    if (existing) downloads.push(existing);
    else {
      downloads.push(await ports.media.makeDownload(video, rendition));
      done.push(`download ${rendition.name}`);
    }
  }
  const dropped = before.downloads.filter((file) => !wanted.some((r) => r.name === file.name));
  if (dropped.length) done.push(`removed ${dropped.map((file) => file.name).join(', ')}`);

  let poster: PosterKeys | undefined;
  const automaticPoster =
    before.automaticPoster ??
    (video.posterKey ? { posterKey: video.posterKey, thumbnailKey: video.thumbnailKey } : null);
  if (video.posterTimeSeconds !== before.posterTimeSeconds) {
    if (video.posterTimeSeconds === null) poster = automaticPoster ?? undefined;
    else {
      const at = Math.min(video.posterTimeSeconds, Math.max(0, (video.durationSeconds ?? 0) - 0.05));
      poster = await ports.media.makePoster(video, video.renditions[0]!, at);
    }
    done.push(
      video.posterTimeSeconds === null ? 'automatic poster' : `poster at ${video.posterTimeSeconds}s`,
    );
  }
  if (done.length === 0) return 'unchanged';

  const state: DerivativesState = {
    downloads,
    storyboardKey,
    posterTimeSeconds: video.posterTimeSeconds,
    automaticPoster,
  };
  const saved = await ports.videos.saveDerivatives(
    videoId,
    { downloads: video.downloads, posterTimeSeconds: video.posterTimeSeconds },
    state,
    poster,
  );
  if (!saved) return 'superseded: the video changed meanwhile; the message its change wrote follows';

  // Once nothing refers to them. A download turned off goes at its fixed key (also one a superseded
  // run may have left behind); an earlier chosen poster goes, the automatic one is kept.
  const unwanted = video.renditions
    .filter((r) => !wanted.some((w) => w.name === r.name))
    .map((r) => ports.media.downloadKey(video, r));
  const keep = new Set([
    automaticPoster?.posterKey,
    automaticPoster?.thumbnailKey,
    poster?.posterKey,
    poster?.thumbnailKey,
  ]);
  const oldPoster =
    poster && before.posterTimeSeconds !== null
      ? [video.posterKey, video.thumbnailKey].filter((key): key is string => !!key && !keep.has(key))
      : [];
  if (dropped.length || oldPoster.length) await ports.media.remove([...unwanted, ...oldPoster]);
  return `made: ${done.join('; ')}`;
}
