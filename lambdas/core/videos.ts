import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  UnauthorizedError,
  ValidationError,
} from './errors.ts';
import { decodeCursor, type Keyset, toPage } from './pagination.ts';
import { can, canModify, canSee } from './policy.ts';
import type { Principal } from './principal.ts';
import type { DownloadSetting, Playback, VideoRecord, VideoStatus, VideoView, Visibility } from './video.ts';
import { toVideoView } from './video.ts';

/** What the catalog needs from storage. Implemented over Postgres in adapters/db/videos.ts. */
export interface VideoRepository {
  /** Includes soft-deleted videos: the policy decides what a caller may see. */
  findById(id: string): Promise<VideoRecord | undefined>;
  list(query: VideoListQuery): Promise<VideoRecord[]>;
  /**
   * Applies the patch. With `revokePlayback`, in the same transaction, moves the video's playback epoch
   * forward and records the revocation for the CDN, so every URL handed out before stops working.
   */
  update(id: string, patch: VideoPatch, effects: { revokePlayback: boolean }): Promise<VideoRecord>;
  /** Marks the video deleted and revokes its playback URLs; false if it already was deleted. */
  softDelete(id: string): Promise<boolean>;
}

export interface VideoListQuery {
  /** Only this owner's videos, in every status; otherwise public ready videos. */
  ownerId?: string;
  status?: VideoStatus;
  search?: string;
  after?: Keyset;
  /** Rows to fetch: the page size plus one. */
  take: number;
}

export interface VideoPatch {
  title?: string;
  description?: string;
  visibility?: Visibility;
  downloads?: DownloadSetting;
  /** null: back to the automatic poster. */
  posterTimeSeconds?: number | null;
}

/** Turns a ready video's stored keys into playback URLs (signed for private videos). */
export type PlaybackResolver = (video: VideoRecord) => Promise<Playback | null>;

/** Hands a deleted video's objects to the worker that removes them. */
export type MediaCleanupQueue = (video: VideoRecord) => Promise<void>;

/** Aborts the open multipart upload of the session with this id, if it is still open (core/uploads.ts). */
export type UploadAbandoner = (uploadId: string) => Promise<void>;

export interface CatalogDeps {
  videos: VideoRepository;
  playback: PlaybackResolver;
}

const view = async (deps: CatalogDeps, video: VideoRecord): Promise<VideoView> =>
  toVideoView(video, video.status === 'ready' ? await deps.playback(video) : null);

async function visibleVideo(
  deps: CatalogDeps,
  principal: Principal | null,
  id: string,
): Promise<VideoRecord> {
  const video = await deps.videos.findById(id);
  if (!video || !canSee(principal, facts(video))) throw new NotFoundError(`No video with id ${id}`);
  return video;
}

export async function getVideo(
  deps: CatalogDeps,
  principal: Principal | null,
  id: string,
): Promise<VideoView> {
  return view(deps, await visibleVideo(deps, principal, id));
}

export interface ListRequest {
  limit: number;
  cursor?: string | undefined;
  q?: string | undefined;
  owner?: 'me' | undefined;
  status?: VideoStatus | undefined;
}

export async function listVideos(
  deps: CatalogDeps,
  principal: Principal | null,
  request: ListRequest,
): Promise<{ items: VideoView[]; nextCursor: string | null }> {
  if (request.status && request.owner !== 'me') {
    throw new ValidationError('status filters your own videos: add owner=me', {
      errors: [{ path: 'query.status', message: 'only allowed with owner=me' }],
    });
  }
  let ownerId: string | undefined;
  if (request.owner === 'me') {
    if (!principal) throw new UnauthorizedError('owner=me needs a bearer token or an API key', null);
    if (!can(principal, 'list-own')) throw new ForbiddenError('This credential may not read videos');
    ownerId = principal.userId;
  }
  const rows = await deps.videos.list({
    ownerId,
    status: request.status,
    search: request.q,
    after: request.cursor ? decodeCursor(request.cursor) : undefined,
    take: request.limit + 1,
  });
  const page = toPage(rows, request.limit);
  return {
    items: await Promise.all(page.items.map((video) => view(deps, video))),
    nextCursor: page.nextCursor,
  };
}

export async function updateVideo(
  deps: CatalogDeps,
  principal: Principal,
  id: string,
  patch: VideoPatch,
): Promise<VideoView> {
  const video = await visibleVideo(deps, principal, id);
  if (!canModify(principal, facts(video), 'update'))
    throw new ForbiddenError('You may not change this video');
  if (Object.keys(patch).length === 0) return view(deps, video);
  if (patch.posterTimeSeconds !== undefined && patch.posterTimeSeconds !== null) {
    if (video.status !== 'ready' || video.durationSeconds === null) {
      throw new ConflictError(`A poster time can be set once the video is ready; it is ${video.status}`);
    }
    if (patch.posterTimeSeconds > video.durationSeconds) {
      throw new ValidationError(`posterTimeSeconds must be within the video (0..${video.durationSeconds})`, {
        errors: [
          { path: 'body.posterTimeSeconds', message: `must be between 0 and ${video.durationSeconds}` },
        ],
      });
    }
  }
  // Public and unlisted URLs never expire, so setting a video private revokes every URL made so far.
  // Decided from the patch alone, not from the visibility read above: two PATCHes racing (to public and
  // to private) could both have read "private" and left the public URLs of the first one alive. The
  // price is that an owner's own private URLs are renewed too. Going public revokes nothing.
  const revokePlayback = patch.visibility === 'private';
  return view(deps, await deps.videos.update(id, patch, { revokePlayback }));
}

export async function deleteVideo(
  deps: CatalogDeps & { cleanup: MediaCleanupQueue; abandonUpload: UploadAbandoner },
  principal: Principal,
  id: string,
): Promise<void> {
  const video = await visibleVideo(deps, principal, id);
  if (!canModify(principal, facts(video), 'delete'))
    throw new ForbiddenError('You may not delete this video');
  // An upload still open is aborted first, so nothing can complete into storage once the video is gone
  // (should the abort fail, nothing is deleted and the call can be repeated).
  if (video.status === 'uploading' && video.uploadId) await deps.abandonUpload(video.uploadId);
  // Gone from every view then; its objects are removed asynchronously (and re-queued by the sweeper
  // if this hand-off is lost), so a slow or failing storage call never leaves a half-deleted video.
  if (await deps.videos.softDelete(id)) await deps.cleanup(video);
}

export function facts(video: VideoRecord) {
  return {
    ownerId: video.ownerId,
    visibility: video.visibility,
    status: video.status,
    deleted: video.deletedAt !== null,
  };
}
