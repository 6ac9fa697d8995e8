import { randomUUID } from 'node:crypto';
import { toVideoView, type VideoRecord, type VideoView } from './video.ts';

/**
 * Domain events: what happened to a video or an upload, with a stable id, type and time and the
 * resource as the API returns it to its owner. Each is written to the outbox in the same transaction as
 * the change it describes (adapters/db/events.ts), so none is lost when a function dies between the
 * change and the send, and none is told of a change that rolled back. Webhook endpoints receive them
 * (Standard Webhooks), and in the cloud so does the stage's EventBridge bus (detail-type = type).
 */
export const eventTypes = [
  'video.created',
  'video.upload.completed',
  'video.processing',
  'video.ready',
  'video.failed',
  'video.updated',
  'video.deleted',
  'upload.aborted',
  'upload.expired',
  'webhook.test',
] as const;
export type EventType = (typeof eventTypes)[number];
export type VideoEventType = Extract<EventType, `video.${string}`>;
export type UploadEventType = Extract<EventType, `upload.${string}`>;

/** The event as endpoints receive it: the body of every delivery. */
export interface PublicEvent {
  id: string;
  type: EventType;
  /** ISO 8601: when the change happened. */
  timestamp: string;
  data: Record<string, unknown>;
}

/** What a ready video's playback URLs are made from (the fan-out, which holds the key, makes them). */
export interface PlaybackSource {
  id: string;
  status: 'ready';
  visibility: VideoRecord['visibility'];
  playbackEpoch: number;
  masterPlaylistKey: string;
  posterKey: string;
  /** Ready caption tracks, whose URLs playback lists too. */
  captions: VideoRecord['captions'];
  /** What the downloads and storyboard URLs are made from (absent in events recorded before them). */
  downloads?: VideoRecord['downloads'];
  renditions?: VideoRecord['renditions'];
  derivatives?: VideoRecord['derivatives'];
}

/** An event as the outbox keeps it: the public event, whose it is, and what is still to be filled in. */
export interface OutboxEvent extends PublicEvent {
  /** The owner of the video: their endpoints (and admins') receive it. */
  ownerId: string;
  videoId: string;
  /** Set for events of a ready video: `data.playback` is made from it when the event is rendered. */
  playback?: PlaybackSource;
}

/** The upload as GET /v1/uploads/{id} returns it. */
export interface UploadView {
  uploadId: string;
  videoId: string;
  status: 'uploading' | 'completed' | 'aborted' | 'expired';
  size: number;
  partSize: number;
  partCount: number;
  uploadedParts: Array<{ partNumber: number; size: number; etag: string }>;
  bytesUploaded: number;
  expiresAt: string;
}

export function videoEvent(type: VideoEventType, video: VideoRecord, at = new Date()): OutboxEvent {
  const view: VideoView & { progress?: number | null } = toVideoView(video, null);
  // While processing the contract adds `progress` (0..1, null when unknown) to the video.
  const data: Record<string, unknown> =
    view.status === 'processing' ? { progress: null, ...view } : { ...view };
  const live = type !== 'video.deleted' && video.deletedAt === null;
  const playable =
    live && video.status === 'ready' && video.masterPlaylistKey !== null && video.posterKey !== null;
  return {
    id: randomUUID(),
    type,
    timestamp: at.toISOString(),
    data,
    ownerId: video.ownerId,
    videoId: video.id,
    ...(playable
      ? {
          playback: {
            id: video.id,
            status: 'ready',
            visibility: video.visibility,
            playbackEpoch: video.playbackEpoch,
            masterPlaylistKey: video.masterPlaylistKey!,
            posterKey: video.posterKey!,
            captions: video.captions,
            downloads: video.downloads,
            renditions: video.renditions,
            derivatives: video.derivatives,
          },
        }
      : {}),
  };
}

export function uploadEvent(
  type: UploadEventType,
  upload: UploadView,
  ownerId: string,
  at = new Date(),
): OutboxEvent {
  return {
    id: randomUUID(),
    type,
    timestamp: at.toISOString(),
    data: { ...upload },
    ownerId,
    videoId: upload.videoId,
  };
}

/** The public event, with playback URLs where the video has them. */
export async function renderEvent(
  event: OutboxEvent,
  playback: (source: PlaybackSource) => Promise<unknown>,
): Promise<PublicEvent> {
  let data = event.data;
  if (event.playback) {
    // Downloads are listed beside playback, with URLs made the same way (core/video.ts toVideoView).
    const made = (await playback(event.playback)) as { downloads?: unknown } | null;
    const { downloads = [], ...rest } = made ?? {};
    data = { ...event.data, playback: made ? rest : null, downloads };
  }
  return { id: event.id, type: event.type, timestamp: event.timestamp, data };
}
