/** The video as core knows it: a plain record, independent of how it is stored. */
export const visibilities = ['public', 'unlisted', 'private'] as const;
export type Visibility = (typeof visibilities)[number];
export const videoStatuses = ['uploading', 'processing', 'ready', 'failed'] as const;
export type VideoStatus = (typeof videoStatuses)[number];

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
}

export interface Playback {
  hls: string;
  poster: string;
  captions: Array<{ captionId: string; language: string; label: string; url: string }>;
  expiresAt?: string;
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
  createdAt: string;
  updatedAt: string;
  /** Only while processing (API.md): 0..1 from completed transcode work, null when unknown. */
  progress?: number | null;
}

export function toVideoView(video: VideoRecord, playback: Playback | null): VideoView {
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
    playback: video.status === 'ready' ? playback : null,
    createdAt: video.createdAt.toISOString(),
    updatedAt: video.updatedAt.toISOString(),
    ...(video.status === 'processing' ? { progress: video.progress ?? null } : {}),
  };
}
