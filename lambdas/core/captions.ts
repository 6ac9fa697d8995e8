import { randomUUID } from 'node:crypto';
import { objectKeys } from '#shared/resources.ts';
import { ConflictError, ForbiddenError, NotFoundError } from './errors.ts';
import { withSubtitles } from './media/hls.ts';
import { CAPTION_LIMITS, type CaptionFormat, parseCaptions, toWebVtt } from './media/subtitles.ts';
import { canModify, canSee } from './policy.ts';
import type { Principal } from './principal.ts';
import type { VideoRecord } from './video.ts';
import { facts } from './videos.ts';

/**
 * Caption tracks (API.md "Captions"). The API never carries the file: creating a track signs one PUT
 * of exactly the declared size straight to storage; the captions worker then validates and publishes it
 * (core/media/subtitles.ts, events/captions.ts). Tracks belong to their video: whoever may change the
 * video manages them, whoever may see it sees its ready tracks.
 */
export type CaptionStatus = 'uploading' | 'processing' | 'ready' | 'failed';

export interface CaptionRecord {
  id: string;
  videoId: string;
  language: string;
  label: string;
  format: CaptionFormat;
  size: number;
  status: CaptionStatus;
  failureReason: string | null;
  createdAt: Date;
}

export interface CaptionView {
  captionId: string;
  language: string;
  label: string;
  status: CaptionStatus;
  failureReason: string | null;
}

export interface CaptionRepository {
  forVideo(videoId: string): Promise<CaptionRecord[]>;
  /** Inserts the track unless the video already has `max` of them; false then. */
  create(
    caption: Omit<CaptionRecord, 'createdAt' | 'status' | 'failureReason'>,
    max: number,
  ): Promise<boolean>;
  /** Removes the track and records (in the same transaction) that its files must go; false if absent. */
  remove(videoId: string, captionId: string): Promise<boolean>;
}

export interface CaptionUploads {
  /** A PUT URL for exactly `size` bytes at the track's source key, and the headers it must be sent with. */
  signUpload(
    videoId: string,
    captionId: string,
    size: number,
    expiresInSeconds: number,
  ): Promise<{ url: string; headers: Record<string, string> }>;
}

export interface CaptionDeps {
  videos: { findById(id: string): Promise<VideoRecord | undefined> };
  captions: CaptionRepository;
  uploads: CaptionUploads;
  now?: () => number;
}

/** How long the PUT URL works; a track whose file never came is reported failed after that. */
export const CAPTION_UPLOAD_SECONDS = 3600;
export const MAX_CAPTIONS_PER_VIDEO = 20;

export interface CreateCaptionInput {
  language: string;
  label: string;
  format: CaptionFormat;
  size: number;
}

export async function createCaption(
  deps: CaptionDeps,
  principal: Principal,
  videoId: string,
  input: CreateCaptionInput,
) {
  const video = await modifiableVideo(deps, principal, videoId);
  if (video.status !== 'ready') {
    throw new ConflictError(`Captions can be added once the video is ready; it is ${video.status}`);
  }
  const captionId = randomUUID();
  const created = await deps.captions.create(
    {
      id: captionId,
      videoId,
      language: input.language,
      label: input.label,
      format: input.format,
      size: input.size,
    },
    MAX_CAPTIONS_PER_VIDEO,
  );
  if (!created) {
    throw new ConflictError(`A video has at most ${MAX_CAPTIONS_PER_VIDEO} caption tracks: delete one first`);
  }
  const now = deps.now?.() ?? Date.now();
  const { url, headers } = await deps.uploads.signUpload(
    videoId,
    captionId,
    input.size,
    CAPTION_UPLOAD_SECONDS,
  );
  return {
    captionId,
    upload: {
      url,
      method: 'PUT' as const,
      headers,
      expiresAt: new Date(now + CAPTION_UPLOAD_SECONDS * 1000).toISOString(),
    },
  };
}

/** The owner (and admins) see every track with its status; anyone else who can see the video, its ready ones. */
export async function listCaptions(deps: CaptionDeps, principal: Principal | null, videoId: string) {
  const video = await deps.videos.findById(videoId);
  if (!video || !canSee(principal, facts(video))) throw new NotFoundError(`No video with id ${videoId}`);
  const manager = principal !== null && canModify(principal, facts(video), 'update');
  const now = deps.now?.() ?? Date.now();
  const tracks = (await deps.captions.forVideo(videoId)).filter((c) => manager || c.status === 'ready');
  return { items: tracks.map((caption) => captionView(caption, now)) };
}

export async function deleteCaption(
  deps: CaptionDeps,
  principal: Principal,
  videoId: string,
  captionId: string,
) {
  await modifiableVideo(deps, principal, videoId);
  if (!(await deps.captions.remove(videoId, captionId))) {
    throw new NotFoundError(`Video ${videoId} has no caption ${captionId}`);
  }
}

async function modifiableVideo(
  deps: CaptionDeps,
  principal: Principal,
  videoId: string,
): Promise<VideoRecord> {
  const video = await deps.videos.findById(videoId);
  if (!video || !canSee(principal, facts(video))) throw new NotFoundError(`No video with id ${videoId}`);
  if (!canModify(principal, facts(video), 'update'))
    throw new ForbiddenError('You may not change this video');
  return video;
}

export function captionView(caption: CaptionRecord, now: number): CaptionView {
  // Its PUT URL has expired and no file came: it never will.
  const abandoned =
    caption.status === 'uploading' && now - caption.createdAt.getTime() > CAPTION_UPLOAD_SECONDS * 1000;
  return {
    captionId: caption.id,
    language: caption.language,
    label: caption.label,
    status: abandoned ? 'failed' : caption.status,
    failureReason: abandoned
      ? 'no file was uploaded before its upload URL expired; add the caption again'
      : caption.failureReason,
  };
}

// ---------------------------------------------------------------------------------------------------------
// The captions worker's decisions (events/captions.ts supplies the ports).

export interface CaptionWorkerPorts {
  videos: { findById(id: string): Promise<VideoRecord | undefined> };
  captions: {
    find(videoId: string, captionId: string): Promise<CaptionRecord | undefined>;
    markProcessing(captionId: string): Promise<boolean>;
    markFailed(captionId: string, reason: string): Promise<void>;
    /**
     * Runs `publish` under the video's caption lock with its ready tracks, after marking `readyId` ready
     * in the same transaction; `marked` says whether that track was still there to mark.
     */
    publishing<T>(
      videoId: string,
      readyId: string | undefined,
      publish: (ready: CaptionRecord[], marked: boolean) => Promise<T>,
    ): Promise<T>;
  };
  sources: {
    /** The uploaded file; undefined when it is gone, 'too-large' past `maxBytes`. */
    read(videoId: string, captionId: string, maxBytes: number): Promise<Uint8Array | undefined | 'too-large'>;
    remove(videoId: string, captionId: string): Promise<void>;
  };
  media: {
    /** Writes the track's WebVTT and its one-segment playlist under the video's media prefix. */
    putTrack(videoId: string, captionId: string, vtt: string, playlist: string): Promise<void>;
    removeTrack(videoId: string, captionId: string): Promise<void>;
    readMaster(key: string): Promise<string | undefined>;
    writeMaster(key: string, text: string): Promise<void>;
  };
}

/**
 * An uploaded caption file: validated, sanitized to WebVTT, published as an HLS subtitles rendition, and
 * the master playlist written again with it. A broken file fails the track with the parser's reason and
 * leaves the video as it was; the uploaded file is removed either way (only the clean copy is served).
 */
export async function processCaption(
  ports: CaptionWorkerPorts,
  videoId: string,
  captionId: string,
): Promise<string> {
  const caption = await ports.captions.find(videoId, captionId);
  const video = await ports.videos.findById(videoId);
  if (!caption || !video || video.deletedAt) {
    await ports.sources.remove(videoId, captionId);
    return 'ignored: the track or its video is gone';
  }
  if (caption.status !== 'uploading' && caption.status !== 'processing') {
    return `ignored: the track is already ${caption.status}`;
  }
  await ports.captions.markProcessing(captionId);
  const bytes = await ports.sources.read(videoId, captionId, CAPTION_LIMITS.maxBytes);
  if (bytes === undefined) return 'ignored: the uploaded file is gone';
  const parsed =
    bytes === 'too-large'
      ? { ok: false as const, reason: `the caption file is over ${CAPTION_LIMITS.maxBytes} bytes` }
      : bytes.length !== caption.size
        ? {
            ok: false as const,
            reason: `the file is ${bytes.length} bytes, not the ${caption.size} declared`,
          }
        : parseCaptions(bytes, caption.format, { durationSeconds: video.durationSeconds ?? 0 });
  if (!parsed.ok) {
    await ports.captions.markFailed(captionId, parsed.reason);
    await ports.sources.remove(videoId, captionId);
    return `failed: ${parsed.reason}`;
  }
  const duration = Math.max(video.durationSeconds ?? 0, ...parsed.cues.map((cue) => cue.end));
  const vtt = toWebVtt(parsed.cues);
  // Under the video's caption lock, and only if the track still exists: a deletion handled meanwhile
  // (it takes the same lock) must not be followed by files nobody would ever remove.
  const published = await ports.captions.publishing(videoId, captionId, async (ready, marked) => {
    if (!marked) return undefined;
    await ports.media.putTrack(videoId, captionId, vtt, subtitlePlaylist(captionId, duration));
    return writeMaster(ports, video, ready);
  });
  await ports.sources.remove(videoId, captionId);
  return published === undefined
    ? 'discarded: the track was deleted while it was processed'
    : `ready: ${parsed.cues.length} cues; master lists ${published} track(s)`;
}

/** A deleted track: the master playlist stops listing it, then its files go (under the same lock). */
export async function removeCaption(
  ports: CaptionWorkerPorts,
  videoId: string,
  captionId: string,
): Promise<string> {
  const video = await ports.videos.findById(videoId);
  await ports.captions.publishing(videoId, undefined, async (ready) => {
    if (video && !video.deletedAt) await writeMaster(ports, video, ready);
    await ports.media.removeTrack(videoId, captionId);
  });
  await ports.sources.remove(videoId, captionId);
  return 'removed';
}

/** The master playlist with exactly the video's ready tracks (the caller holds the caption lock). */
async function writeMaster(ports: CaptionWorkerPorts, video: VideoRecord, ready: CaptionRecord[]) {
  const masterKey = video.masterPlaylistKey;
  if (!masterKey) return 0;
  const master = await ports.media.readMaster(masterKey);
  if (master === undefined) throw new Error(`the master playlist ${masterKey} is missing`);
  const next = withSubtitles(
    master,
    ready.map((track) => ({
      uri: objectKeys.captionPlaylist(track.id),
      language: track.language,
      name: track.label,
    })),
  );
  if (next !== master) await ports.media.writeMaster(masterKey, next);
  return ready.length;
}

/** One WebVTT segment covering the whole video (RFC 8216 allows a single-file subtitle rendition). */
function subtitlePlaylist(captionId: string, durationSeconds: number): string {
  const duration = Math.max(1, durationSeconds);
  return [
    '#EXTM3U',
    '#EXT-X-VERSION:3',
    `#EXT-X-TARGETDURATION:${Math.ceil(duration)}`,
    '#EXT-X-MEDIA-SEQUENCE:0',
    '#EXT-X-PLAYLIST-TYPE:VOD',
    `#EXTINF:${duration.toFixed(3)},`,
    objectKeys.captionFile(captionId).split('/').pop()!,
    '#EXT-X-ENDLIST',
    '',
  ].join('\n');
}
