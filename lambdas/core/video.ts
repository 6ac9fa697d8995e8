/** The video as core knows it: a plain record, independent of how it is stored. */
export const visibilities = ['public', 'unlisted', 'private'] as const;
export type Visibility = (typeof visibilities)[number];
export const videoStatuses = ['uploading', 'processing', 'ready', 'failed'] as const;
export type VideoStatus = (typeof videoStatuses)[number];

/** Which renditions an owner offers as MP4 downloads (API.md "Downloads"). */
export const downloadSettings = ['none', 'highest', 'all'] as const;
export type DownloadSetting = (typeof downloadSettings)[number];

/** One progressive MP4 the derivatives worker made from a rendition (key under the media bucket). */
export interface DownloadFile {
  name: string;
  width: number;
  height: number;
  size: number;
  key: string;
}

/** What the derivatives worker has made of a ready video (core/derivatives.ts keeps it in line). */
export interface DerivativesState {
  downloads: DownloadFile[];
  /** The storyboard's WebVTT (its sprites lie beside it); null until made. */
  storyboardKey: string | null;
  /** The time the current poster shows when the owner chose it; null: the automatic poster. */
  posterTimeSeconds: number | null;
  /** The transcoder's own poster and thumbnail, to go back to when the owner clears their choice. */
  automaticPoster: { posterKey: string; thumbnailKey: string | null } | null;
}

export interface Rendition {
  name: string;
  width: number;
  height: number;
  bitrate: number;
  codecs: string;
  playlistKey: string;
}

export interface VideoRecord {
  id: string;
  ownerId: string;
  title: string;
  description: string;
  visibility: Visibility;
  status: VideoStatus;
  failureReason: string | null;
  sourceKey: string | null;
  sourceSize: number | null;
  durationSeconds: number | null;
  width: number | null;
  height: number | null;
  posterKey: string | null;
  thumbnailKey: string | null;
  masterPlaylistKey: string | null;
  /** Playback tokens carry it; the CDN refuses tokens older than the latest revocation (see playback-token.ts). */
  playbackEpoch: number;
  createdAt: Date;
  updatedAt: Date;
  deletedAt: Date | null;
  /** The upload session that made it, while that matters (an `uploading` video); null for older videos. */
  uploadId: string | null;
  renditions: Rendition[];
  /** Ready caption tracks, in the order the master playlist lists them. */
  captions: Array<{ id: string; language: string; label: string }>;
  /** While processing: the share of transcode jobs done, 0..1; null (or absent) when unknown. */
  progress?: number | null;
  downloads: DownloadSetting;
  /** The poster frame the owner chose (seconds); null for the automatic one. */
  posterTimeSeconds: number | null;
  derivatives: DerivativesState | null;
}

/** A download as the video resource lists it. */
export interface DownloadView {
  name: string;
  width: number;
  height: number;
  size: number;
  url: string;
  expiresAt?: string;
}

export interface Playback {
  hls: string;
  poster: string;
  captions: Array<{ captionId: string; language: string; label: string; url: string }>;
  /** WebVTT of storyboard sprite tiles; null until the derivatives worker made it. */
  storyboard: string | null;
  expiresAt?: string;
  /** Download URLs, made with the same access as the rest; the view lists them beside `playback`. */
  downloads?: DownloadView[];
}

/** The contract's video object. */
export interface VideoView {
  id: string;
  title: string;
  description: string;
  visibility: Visibility;
  status: VideoStatus;
  failureReason: string | null;
  ownerId: string;
  durationSeconds: number | null;
  width: number | null;
  height: number | null;
  renditions: Array<{ name: string; width: number; height: number; bitrate: number; codecs: string }>;
  playback: Playback | null;
  /** Progressive MP4s made and still offered (empty while being made, and when downloads are off). */
  downloads: DownloadView[];
  posterTimeSeconds: number | null;
  createdAt: string;
  updatedAt: string;
  /** Only while processing (API.md): 0..1 from completed transcode work, null when unknown. */
  progress?: number | null;
}

export function toVideoView(video: VideoRecord, withDownloads: Playback | null): VideoView {
  const { downloads = [], ...playback } = withDownloads ?? {};
  const ready = video.status === 'ready' && withDownloads !== null;
  return {
    id: video.id,
    title: video.title,
    description: video.description,
    visibility: video.visibility,
    status: video.status,
    failureReason: video.failureReason,
    ownerId: video.ownerId,
    durationSeconds: video.durationSeconds,
    width: video.width,
    height: video.height,
    renditions: video.renditions.map(({ name, width, height, bitrate, codecs }) => ({
      name,
      width,
      height,
      bitrate,
      codecs,
    })),
    playback: ready ? (playback as Playback) : null,
    downloads: ready ? downloads : [],
    posterTimeSeconds: video.posterTimeSeconds,
    createdAt: video.createdAt.toISOString(),
    updatedAt: video.updatedAt.toISOString(),
    ...(video.status === 'processing' ? { progress: video.progress ?? null } : {}),
  };
}
