import { randomUUID } from 'node:crypto';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  ValidationError,
} from './errors.ts';
import type { UploadView } from './events.ts';
import { partLength, planParts } from './part-plan.ts';
import { can } from './policy.ts';
import type { Principal } from './principal.ts';
import { type QuotaLimits, quotaExceeded, type StorageUsage, storageLimit } from './quota.ts';
import type { DownloadSetting, VideoRecord, Visibility } from './video.ts';

/**
 * Direct-to-storage multipart uploads. The API never carries video bytes: it plans the parts, signs
 * one URL per part, reads progress back from storage, and completes or aborts. The server makes every
 * object key (`uploads/{videoId}/source`); the client's file name is only ever metadata.
 */
export const ACCEPTED_CONTENT_TYPES = [
  'video/mp4',
  'video/quicktime',
  'video/webm',
  'video/x-matroska',
  'video/x-m4v',
] as const;

export type UploadStatus = 'uploading' | 'completed' | 'aborted' | 'expired';

export interface UploadSession {
  uploadId: string;
  videoId: string;
  ownerId: string;
  storageUploadId: string;
  key: string;
  size: number;
  partSize: number;
  partCount: number;
  contentType: string;
  filename: string;
  /** ms since epoch; checked on every read because storage-side expiry is lazy. */
  expiresAt: number;
  status: 'uploading' | 'completed' | 'aborted';
}

export interface StoredPart {
  partNumber: number;
  size: number;
  etag: string;
}

/** Session state lives in a short-lived store (DynamoDB). */
export interface UploadSessionStore {
  put(session: UploadSession): Promise<void>;
  get(uploadId: string): Promise<UploadSession | undefined>;
  /** Moves `uploading` to a final status; false if the session was no longer uploading. */
  finish(uploadId: string, status: 'completed' | 'aborted'): Promise<boolean>;
}

/** The multipart operations of the object store (S3). */
export interface MultipartStorage {
  create(key: string, contentType: string): Promise<string>;
  signPart(
    key: string,
    storageUploadId: string,
    partNumber: number,
    contentLength: number,
    expiresInSeconds: number,
  ): Promise<string>;
  /** Every uploaded part, across as many list pages as it takes; undefined if the upload is gone. */
  listParts(key: string, storageUploadId: string): Promise<StoredPart[] | undefined>;
  /**
   * `gone` when storage no longer has the multipart upload (aborted or completed meanwhile);
   * `parts-changed` when it refused the part list (a part missing or re-uploaded since it was listed).
   */
  complete(
    key: string,
    storageUploadId: string,
    parts: StoredPart[],
  ): Promise<'completed' | 'gone' | 'parts-changed'>;
  abort(key: string, storageUploadId: string): Promise<void>;
  /** The stored object's size, or undefined when there is none. */
  objectSize(key: string): Promise<number | undefined>;
}

/** The catalog operations an upload needs. */
export interface UploadVideos extends StorageUsage {
  /**
   * Inserts the `uploading` video. With a quota, atomically with checking it: the owner's usage is
   * counted under a per-owner lock in the same transaction, so two concurrent creations cannot both
   * pass when only one fits; `{ created: false }` then says what the owner already uses.
   */
  createUploading(
    video: {
      id: string;
      /** The upload session making it. */
      uploadId: string;
      ownerId: string;
      title: string;
      description: string;
      visibility: Visibility;
      /** MP4 downloads to make once it is ready (default none). */
      downloads?: DownloadSetting;
      sourceKey: string;
      sourceFilename: string;
      sourceContentType: string;
      sourceSize: number;
      /** When the session expires: an upload still open then is swept (upload.expired). */
      uploadExpiresAt?: Date;
    },
    quota: { limitBytes: number; openUploadSeconds: number } | null,
  ): Promise<{ created: true } | { created: false; bytesUsed: number }>;
  /** uploading -> processing; false when the video had already moved on (or is gone). */
  markProcessing(videoId: string): Promise<boolean>;
  /** With `upload`, the upload's event is recorded with the deletion (same transaction). */
  softDelete(
    id: string,
    upload?: { type: 'upload.aborted' | 'upload.expired'; view: UploadView },
  ): Promise<boolean>;
  findById(id: string): Promise<VideoRecord | undefined>;
}

export interface UploadLimits extends QuotaLimits {
  maxBytes: number;
  sessionSeconds: number;
  partUrlSeconds: number;
}

export interface UploadDeps {
  sessions: UploadSessionStore;
  storage: MultipartStorage;
  videos: UploadVideos;
  limits: UploadLimits;
  now?: () => number;
}

export interface CreateUploadInput {
  filename: string;
  contentType: string;
  size: number;
  title: string;
  description?: string | undefined;
  visibility?: Visibility | undefined;
  downloads?: DownloadSetting | undefined;
}

export async function createUpload(deps: UploadDeps, principal: Principal, input: CreateUploadInput) {
  if (!can(principal, 'upload'))
    throw new ForbiddenError('Uploading needs the creator role and the uploads:write scope');
  if (input.size > deps.limits.maxBytes) {
    throw new PayloadTooLargeError(
      `The file is ${input.size} bytes; uploads are limited to ${deps.limits.maxBytes} bytes`,
    );
  }
  const contentType = input.contentType.toLowerCase().split(';')[0]!.trim();
  if (!(ACCEPTED_CONTENT_TYPES as readonly string[]).includes(contentType)) {
    throw new UnsupportedMediaTypeError(
      `${input.contentType} is not a video type we accept (accepted: ${ACCEPTED_CONTENT_TYPES.join(', ')})`,
    );
  }
  const limit = storageLimit(principal, deps.limits);
  if (limit !== null) {
    // A quick refusal before storage is touched; the binding check is the one made with the insert.
    const used = await deps.videos.storageUsed(principal.userId, deps.limits.sessionSeconds);
    if (used + input.size > limit) throw quotaExceeded(input.size, used, limit);
  }
  const plan = planParts(input.size);
  const videoId = randomUUID();
  const key = `uploads/${videoId}/source`;
  const now = deps.now?.() ?? Date.now();

  const storageUploadId = await deps.storage.create(key, contentType);
  const session: UploadSession = {
    uploadId: randomUUID(),
    videoId,
    ownerId: principal.userId,
    storageUploadId,
    key,
    size: input.size,
    partSize: plan.partSize,
    partCount: plan.partCount,
    contentType,
    filename: input.filename,
    expiresAt: now + deps.limits.sessionSeconds * 1000,
    status: 'uploading',
  };
  try {
    const made = await deps.videos.createUploading(
      {
        id: videoId,
        uploadId: session.uploadId,
        ownerId: principal.userId,
        title: input.title,
        description: input.description ?? '',
        visibility: input.visibility ?? 'private',
        downloads: input.downloads ?? 'none',
        sourceKey: key,
        sourceFilename: input.filename,
        sourceContentType: contentType,
        sourceSize: input.size,
        uploadExpiresAt: new Date(session.expiresAt),
      },
      limit === null ? null : { limitBytes: limit, openUploadSeconds: deps.limits.sessionSeconds },
    );
    if (!made.created) throw quotaExceeded(input.size, made.bytesUsed, limit ?? 0);
    await deps.sessions.put(session);
  } catch (error) {
    // Leave nothing half-made behind: no orphaned multipart upload, no video that can never complete.
    await deps.storage.abort(key, storageUploadId).catch(() => undefined);
    await deps.videos.softDelete(videoId).catch(() => undefined);
    throw error;
  }
  return {
    uploadId: session.uploadId,
    videoId,
    partSize: plan.partSize,
    partCount: plan.partCount,
    expiresAt: new Date(session.expiresAt).toISOString(),
  };
}

/**
 * The caller's own session (or any, for an admin); everyone else is told it does not exist. So is
 * everyone once its video is deleted (DELETE /v1/videos/{id}): the upload went with it. Only an upload
 * aborted as such (DELETE /v1/uploads/{id}) stays visible, as `aborted`.
 */
async function ownSession(deps: UploadDeps, principal: Principal, uploadId: string): Promise<UploadSession> {
  const session = await deps.sessions.get(uploadId);
  const admin = principal.roles.includes('admin');
  const notFound = () => new NotFoundError(`No upload with id ${uploadId}`);
  if (!session || (session.ownerId !== principal.userId && !admin) || !can(principal, 'upload')) {
    throw notFound();
  }
  if (session.status !== 'aborted' && (await videoGone(deps, session))) throw notFound();
  return session;
}

async function videoGone(deps: UploadDeps, session: UploadSession): Promise<boolean> {
  const video = await deps.videos.findById(session.videoId);
  return !video || video.deletedAt !== null;
}

/**
 * Deleting a video whose upload is open: the multipart upload is aborted before the video is marked
 * deleted, so no part lands and no source object appears afterwards (a complete racing the delete finds
 * the upload gone and answers 404/409), and the media cleanup queued by the delete finds everything
 * that exists by then.
 */
export async function abandonUpload(deps: Pick<UploadDeps, 'sessions' | 'storage'>, uploadId: string) {
  const session = await deps.sessions.get(uploadId);
  if (session?.status === 'uploading') await deps.storage.abort(session.key, session.storageUploadId);
}

function statusOf(session: UploadSession, now: number): UploadStatus {
  return session.status === 'uploading' && now >= session.expiresAt ? 'expired' : session.status;
}

function requireUploading(session: UploadSession, now: number): void {
  const status = statusOf(session, now);
  if (status === 'expired') throw new ConflictError('This upload has expired; start a new one');
  if (status === 'aborted') throw new ConflictError('This upload was aborted; start a new one');
  if (status === 'completed') throw new ConflictError('This upload is already complete');
}

export async function signParts(
  deps: UploadDeps,
  principal: Principal,
  uploadId: string,
  partNumbers: number[],
) {
  const session = await ownSession(deps, principal, uploadId);
  const now = deps.now?.() ?? Date.now();
  requireUploading(session, now);
  const outside = partNumbers.filter((n) => n > session.partCount);
  if (outside.length > 0) {
    throw new ValidationError(`This upload has parts 1..${session.partCount}`, {
      errors: outside.map((n) => ({
        path: 'body.partNumbers',
        message: `part ${n} is beyond part ${session.partCount}`,
      })),
    });
  }
  // A URL never outlives its session.
  const expiresIn = Math.max(
    1,
    Math.min(deps.limits.partUrlSeconds, Math.floor((session.expiresAt - now) / 1000)),
  );
  const expiresAt = new Date(now + expiresIn * 1000).toISOString();
  const unique = [...new Set(partNumbers)].sort((a, b) => a - b);
  const parts = await Promise.all(
    unique.map(async (partNumber) => ({
      partNumber,
      url: await deps.storage.signPart(
        session.key,
        session.storageUploadId,
        partNumber,
        partLength(session, session.size, partNumber),
        expiresIn,
      ),
      method: 'PUT' as const,
      // Content-Length is signed into the URL (the part must be exactly its planned size); browsers
      // set it themselves, so there is nothing else to send.
      headers: {} as Record<string, string>,
      expiresAt,
    })),
  );
  return { parts };
}

export async function describeUpload(deps: UploadDeps, principal: Principal, uploadId: string) {
  const session = await ownSession(deps, principal, uploadId);
  const status = statusOf(session, deps.now?.() ?? Date.now());
  const parts =
    status === 'uploading'
      ? ((await deps.storage.listParts(session.key, session.storageUploadId)) ?? [])
      : [];
  return uploadView(session, status, parts);
}

export async function completeUpload(
  deps: UploadDeps,
  principal: Principal,
  uploadId: string,
  clientParts?: Array<{ partNumber: number; etag: string }>,
) {
  const session = await ownSession(deps, principal, uploadId);
  const accepted = { videoId: session.videoId, status: 'processing' as const };
  if (session.status === 'completed') return accepted; // a repeated complete answers the same
  const now = deps.now?.() ?? Date.now();
  requireUploading(session, now);

  const stored = await deps.storage.listParts(session.key, session.storageUploadId);
  if (stored === undefined) {
    // The multipart upload is gone. If its object exists at the declared size, an earlier complete got
    // as far as storage and stopped (a crash, a timeout): finish the bookkeeping it left undone.
    if ((await deps.storage.objectSize(session.key)) === session.size)
      return finish(deps, principal, session, accepted);
    throw new ConflictError('The upload no longer exists in storage; start a new one');
  }
  verifyParts(session, stored, clientParts);
  const outcome = await deps.storage.complete(session.key, session.storageUploadId, stored);
  if (outcome === 'parts-changed') {
    throw new ConflictError('The parts changed while completing (a part was re-uploaded); complete again');
  }
  // Gone from storage: either a concurrent complete won (the object is there, at its size; finish the
  // same bookkeeping) or the upload was aborted or its video deleted meanwhile.
  if (outcome === 'gone' && (await deps.storage.objectSize(session.key)) !== session.size) {
    throw await lostRace(deps, principal, uploadId);
  }
  return finish(deps, principal, session, accepted);
}

/** Why an upload that was open a moment ago is not any more: 404 if its video is gone, else 409. */
async function lostRace(deps: UploadDeps, principal: Principal, uploadId: string): Promise<Error> {
  const session = await ownSession(deps, principal, uploadId).catch((error: unknown) => error as Error);
  if (session instanceof Error) return session;
  if (session.status === 'aborted') return new ConflictError('This upload was aborted; start a new one');
  return new ConflictError('The upload no longer exists in storage; start a new one');
}

/**
 * The video first, the session second: a crash in between leaves the session open, so a repeated
 * complete comes back here and finishes (marking processing again is a no-op). The other order could
 * leave a completed session whose video stays `uploading` for good. Should an abort or a delete have
 * taken the session meanwhile, the complete lost the race and says so.
 */
async function finish<T>(
  deps: UploadDeps,
  principal: Principal,
  session: UploadSession,
  accepted: T,
): Promise<T> {
  await deps.videos.markProcessing(session.videoId);
  if (!(await deps.sessions.finish(session.uploadId, 'completed'))) {
    const now = await deps.sessions.get(session.uploadId);
    if (now?.status !== 'completed') throw await lostRace(deps, principal, session.uploadId);
  }
  return accepted;
}

/** Every planned part present, each of its planned size, and the client's ETags (if sent) matching. */
function verifyParts(
  session: UploadSession,
  stored: StoredPart[],
  clientParts: Array<{ partNumber: number; etag: string }> | undefined,
): void {
  const byNumber = new Map(stored.map((part) => [part.partNumber, part]));
  const missing: number[] = [];
  for (let n = 1; n <= session.partCount; n++) if (!byNumber.has(n)) missing.push(n);
  if (missing.length > 0) {
    throw new ConflictError(`Parts missing: ${summarize(missing)}. Upload them, then complete again.`, {
      errors: missing
        .slice(0, 100)
        .map((n) => ({ path: `parts.${n}`, message: `part ${n} has not been uploaded` })),
    });
  }
  const wrongSize = stored.filter(
    (part) =>
      part.partNumber <= session.partCount &&
      part.size !== partLength(session, session.size, part.partNumber),
  );
  const total = stored.reduce((sum, part) => sum + (part.partNumber <= session.partCount ? part.size : 0), 0);
  if (wrongSize.length > 0 || total !== session.size) {
    throw new ConflictError(
      `The uploaded parts hold ${total} bytes but ${session.size} were declared; re-upload parts ${summarize(
        wrongSize.map((part) => part.partNumber),
      )}`,
      {
        errors: wrongSize.map((part) => ({
          path: `parts.${part.partNumber}`,
          message: `part ${part.partNumber} is ${part.size} bytes, expected ${partLength(session, session.size, part.partNumber)}`,
        })),
      },
    );
  }
  const mismatched = (clientParts ?? []).filter(
    (part) => normalizeEtag(byNumber.get(part.partNumber)?.etag ?? '') !== normalizeEtag(part.etag),
  );
  if (mismatched.length > 0) {
    throw new ConflictError(
      `The ETags of parts ${summarize(mismatched.map((p) => p.partNumber))} do not match what storage holds`,
      {
        errors: mismatched.map((part) => ({
          path: `parts.${part.partNumber}`,
          message: 'etag does not match the stored part',
        })),
      },
    );
  }
}

export async function abortUpload(deps: UploadDeps, principal: Principal, uploadId: string): Promise<void> {
  const session = await ownSession(deps, principal, uploadId);
  if (session.status === 'completed') {
    throw new ConflictError('This upload is complete; delete the video instead');
  }
  await deps.storage.abort(session.key, session.storageUploadId);
  if (!(await deps.sessions.finish(session.uploadId, 'aborted'))) {
    // A complete got there first: the video is processing, and stays (delete it instead).
    if ((await deps.sessions.get(session.uploadId))?.status === 'completed') {
      throw new ConflictError('This upload is complete; delete the video instead');
    }
    return; // aborted already: the same answer again
  }
  await deps.videos.softDelete(session.videoId, {
    type: 'upload.aborted',
    view: uploadView({ ...session, status: 'aborted' }, 'aborted', []),
  });
}

/** The upload as GET /v1/uploads/{id} returns it, and as upload.* events carry it. */
export function uploadView(session: UploadSession, status: UploadStatus, parts: StoredPart[]): UploadView {
  return {
    uploadId: session.uploadId,
    videoId: session.videoId,
    status,
    size: session.size,
    partSize: session.partSize,
    partCount: session.partCount,
    uploadedParts: parts.map(({ partNumber, size, etag }) => ({ partNumber, size, etag })),
    bytesUploaded: status === 'completed' ? session.size : parts.reduce((sum, part) => sum + part.size, 0),
    expiresAt: new Date(session.expiresAt).toISOString(),
  };
}

const normalizeEtag = (etag: string) => etag.replaceAll('"', '').toLowerCase();

function summarize(numbers: number[]): string {
  return numbers.length <= 20
    ? numbers.join(', ')
    : `${numbers.slice(0, 20).join(', ')} and ${numbers.length - 20} more`;
}

/**
 * An upload nobody completed before its session expired: storage drops its parts and its video goes,
 * recording `upload.expired` with the deletion. False when the session is not (or no longer) expired.
 */
export async function expireUpload(deps: UploadDeps, uploadId: string): Promise<boolean> {
  const session = await deps.sessions.get(uploadId);
  const now = deps.now?.() ?? Date.now();
  if (!session || statusOf(session, now) !== 'expired') return false;
  // Best effort: the bucket's lifecycle rule aborts incomplete multipart uploads anyway.
  await deps.storage.abort(session.key, session.storageUploadId).catch(() => undefined);
  return deps.videos.softDelete(session.videoId, {
    type: 'upload.expired',
    view: uploadView(session, 'expired', []),
  });
}
