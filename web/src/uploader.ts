import AwsS3, { type AwsS3Part } from '@uppy/aws-s3';
import Uppy, { type Body, type Meta, type UppyFile } from '@uppy/core';
import {
  type ApiClient,
  ApiError,
  type SignedParts,
  type Upload,
  type UploadCreated,
  uploadPath,
  type Visibility,
} from './api.ts';

/**
 * The multipart upload engine: Uppy's @uppy/aws-s3 plugin in multipart mode does the part bookkeeping,
 * parallel PUTs straight to storage, retries, pause and resume; every S3 control call goes through the
 * VideoCloud API instead of S3 itself:
 *
 *   createMultipartUpload -> POST /v1/uploads (made just before Uppy starts, since its answer fixes the
 *                            part size Uppy must cut the file with)
 *   signPart              -> POST /v1/uploads/{id}/parts, batched: concurrent requests and the next
 *                            parts are signed in one call, each URL used once
 *   listParts             -> GET /v1/uploads/{id} (what storage already has: resume)
 *   completeMultipartUpload -> POST /v1/uploads/{id}/complete
 *   abortMultipartUpload  -> DELETE /v1/uploads/{id}
 *
 * Resume after a reload: the upload id is kept in localStorage under the file's fingerprint (name,
 * size, last modified). Browsers cannot reopen a file by themselves, so the person picks the same file
 * again; the engine then hands Uppy the stored upload id and Uppy asks listParts what is already there
 * and sends only the rest. (Uppy's Golden Retriever would instead copy the file's bytes into IndexedDB,
 * which for multi-gigabyte videos costs as much disk as the video and a service worker; the server
 * already knows which parts it has, so only the id needs keeping.)
 */
export interface UploadDetails {
  title: string;
  description: string;
  visibility: Visibility;
}

export interface StoredUpload {
  fingerprint: string;
  owner: string;
  uploadId: string;
  videoId: string;
  partSize: number;
  partCount: number;
  size: number;
  name: string;
  title: string;
  savedAt: string;
}

export interface ProgressSample {
  bytesUploaded: number;
  bytesTotal: number;
  /** Bytes per second, smoothed; undefined until there is enough to tell. */
  speed?: number;
  /** Seconds; undefined while the speed is unknown. */
  secondsLeft?: number;
}

export interface UploadEvents {
  onProgress(sample: ProgressSample): void;
  onPaused(paused: boolean): void;
  onSuccess(videoId: string): void;
  onError(message: string): void;
  onCancelled(): void;
}

const STORE_KEY = 'videocloud.uploads';
const SIGN_LOOKAHEAD = 16;
const PARALLEL_PARTS = 4;

const EXTENSION_TYPES: Record<string, string> = {
  mp4: 'video/mp4',
  m4v: 'video/mp4',
  mov: 'video/quicktime',
  webm: 'video/webm',
  mkv: 'video/x-matroska',
};

export function contentTypeOf(file: File): string {
  if (file.type) return file.type;
  const extension = file.name.split('.').pop()?.toLowerCase() ?? '';
  return EXTENSION_TYPES[extension] ?? 'application/octet-stream';
}

export const fingerprint = (file: File) => `${file.name}:${file.size}:${file.lastModified}`;

export function storedUploads(owner: string): StoredUpload[] {
  try {
    const all = JSON.parse(localStorage.getItem(STORE_KEY) ?? '[]') as StoredUpload[];
    return Array.isArray(all) ? all.filter((u) => u.owner === owner) : [];
  } catch {
    return [];
  }
}

function writeStored(update: (all: StoredUpload[]) => StoredUpload[]): void {
  let all: StoredUpload[];
  try {
    all = JSON.parse(localStorage.getItem(STORE_KEY) ?? '[]') as StoredUpload[];
    if (!Array.isArray(all)) all = [];
  } catch {
    all = [];
  }
  localStorage.setItem(STORE_KEY, JSON.stringify(update(all)));
}

export const forgetUpload = (uploadId: string) =>
  writeStored((all) => all.filter((u) => u.uploadId !== uploadId));

/** What the server says about a stored upload: its progress while it can still be resumed, else null. */
export async function checkStoredUpload(api: ApiClient, stored: StoredUpload): Promise<Upload | null> {
  try {
    const upload = await api.request<Upload>('GET', uploadPath(stored.uploadId));
    if (upload.status === 'uploading') return upload;
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 404) throw error;
  }
  forgetUpload(stored.uploadId);
  return null;
}

interface Session {
  uploadId: string;
  videoId: string;
  partSize: number;
  partCount: number;
}

type SignedPart = SignedParts['parts'][number];

/** Signs part URLs in batches: calls that arrive together, plus the parts likely to be asked for next. */
class PartSigner {
  private cache = new Map<string, Map<number, SignedPart>>();
  private pending = new Map<string, Map<number, Promise<void>>>();
  private queued = new Map<string, { numbers: Set<number>; partCount: number; run: Promise<void> }>();

  constructor(private readonly api: ApiClient) {}

  async sign(uploadId: string, partNumber: number, partCount: number): Promise<SignedPart> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const cached = this.cache.get(uploadId)?.get(partNumber);
      if (cached && Date.parse(cached.expiresAt) - Date.now() > 60_000) {
        this.cache.get(uploadId)!.delete(partNumber); // one use: a retry gets a fresh URL
        return cached;
      }
      const inFlight = this.pending.get(uploadId)?.get(partNumber);
      if (inFlight) await inFlight;
      else await this.enqueue(uploadId, partNumber, partCount);
    }
    throw new Error(`Could not get an upload URL for part ${partNumber}.`);
  }

  forget(uploadId: string): void {
    this.cache.delete(uploadId);
  }

  private enqueue(uploadId: string, partNumber: number, partCount: number): Promise<void> {
    let batch = this.queued.get(uploadId);
    if (!batch) {
      // Wait one task, so the part requests Uppy makes together end up in one call.
      const run = new Promise<void>((resolve) => setTimeout(resolve, 0)).then(() => this.flush(uploadId));
      batch = { numbers: new Set(), partCount, run };
      this.queued.set(uploadId, batch);
    }
    batch.numbers.add(partNumber);
    return batch.run;
  }

  private async flush(uploadId: string): Promise<void> {
    const batch = this.queued.get(uploadId)!;
    this.queued.delete(uploadId);
    const cached = this.cache.get(uploadId) ?? new Map<number, SignedPart>();
    this.cache.set(uploadId, cached);
    const numbers = new Set(batch.numbers);
    // Look ahead: the parts after the highest one asked for are the next Uppy will want.
    let next = Math.max(...numbers) + 1;
    while (numbers.size < Math.min(100, batch.numbers.size + SIGN_LOOKAHEAD) && next <= batch.partCount) {
      if (!cached.has(next)) numbers.add(next);
      next++;
    }
    const partNumbers = [...numbers].sort((a, b) => a - b);
    const pendingForUpload = this.pending.get(uploadId) ?? new Map<number, Promise<void>>();
    this.pending.set(uploadId, pendingForUpload);
    const request = this.api
      .request<SignedParts>('POST', `${uploadPath(uploadId)}/parts`, { partNumbers })
      .then((signed) => {
        for (const part of signed.parts) cached.set(part.partNumber, part);
      })
      .finally(() => {
        for (const n of partNumbers) if (pendingForUpload.get(n) === request) pendingForUpload.delete(n);
      });
    for (const n of partNumbers) pendingForUpload.set(n, request);
    await request;
  }
}

/** One upload at a time, driven by the upload view. */
export class Uploader {
  private readonly uppy: Uppy<Meta, Body>;
  private readonly sessions = new WeakMap<Blob, Session>();
  private readonly signer: PartSigner;
  private fileId: string | undefined;
  private samples: Array<{ at: number; bytes: number }> = [];
  private aborted = new Set<string>();

  constructor(
    private readonly api: ApiClient,
    private readonly owner: string,
    private readonly events: UploadEvents,
  ) {
    this.signer = new PartSigner(api);
    const sessionOf = (data: unknown): Session => {
      const session = data instanceof Blob ? this.sessions.get(data) : undefined;
      if (!session) throw new Error('The upload has not been created yet.');
      return session;
    };
    this.uppy = new Uppy({ autoProceed: false, restrictions: { maxNumberOfFiles: 1 } });
    this.uppy.use(AwsS3, {
      shouldUseMultipart: true,
      limit: PARALLEL_PARTS,
      retryDelays: [0, 1000, 3000, 5000],
      getChunkSize: (data: { size: number }) => sessionOf(data).partSize,
      createMultipartUpload: (file: UppyFile<Meta, Body>) => {
        const session = sessionOf(file.data);
        return { uploadId: session.uploadId, key: session.videoId };
      },
      signPart: async (file: UppyFile<Meta, Body>, { uploadId, partNumber }) => {
        const part = await this.signer.sign(uploadId, partNumber, sessionOf(file.data).partCount);
        return { method: 'PUT' as const, url: part.url, headers: part.headers };
      },
      listParts: async (file: UppyFile<Meta, Body>, { signal }): Promise<AwsS3Part[]> => {
        const { uploadId } = sessionOf(file.data);
        const upload = await api.request<Upload>('GET', uploadPath(uploadId), undefined, signal);
        return upload.uploadedParts.map((p) => ({ PartNumber: p.partNumber, Size: p.size, ETag: p.etag }));
      },
      completeMultipartUpload: async (_file: UppyFile<Meta, Body>, { uploadId, parts, signal }) => {
        await api.request(
          'POST',
          `${uploadPath(uploadId)}/complete`,
          {
            parts: parts
              .filter((p) => p.PartNumber && p.ETag)
              .map((p) => ({ partNumber: p.PartNumber!, etag: p.ETag! })),
          },
          signal,
        );
        return {};
      },
      abortMultipartUpload: async (file: UppyFile<Meta, Body>) => {
        await this.abortOnServer(sessionOf(file.data).uploadId);
      },
    });

    this.uppy.on('upload-progress', (_file, progress) => {
      if (progress.bytesTotal) this.progress(progress.bytesUploaded, progress.bytesTotal);
    });
    this.uppy.on('upload-pause', (_file, paused) => {
      this.samples = [];
      this.events.onPaused(paused);
    });
    this.uppy.on('upload-success', (file) => {
      const session = file?.data instanceof Blob ? this.sessions.get(file.data) : undefined;
      if (session) {
        forgetUpload(session.uploadId);
        this.signer.forget(session.uploadId);
      }
      this.reset();
      if (session) this.events.onSuccess(session.videoId);
    });
    this.uppy.on('upload-error', (file, error) => {
      const cause = (error as { cause?: unknown }).cause ?? error;
      this.events.onError(describeUploadError(cause));
      if (file) this.uppy.removeFile(file.id);
      this.fileId = undefined;
    });
  }

  get active(): boolean {
    return this.fileId !== undefined;
  }

  /**
   * Starts (or resumes, when `resume` is a stored upload for this very file) an upload. Creating the
   * upload can fail with a sentence from the API (too large, not a video type); that rejects.
   */
  async start(file: File, details: UploadDetails, resume?: StoredUpload): Promise<void> {
    if (this.fileId) throw new Error('An upload is already running.');
    // A finished file stays in Uppy's state until removed; make room for this one.
    for (const done of this.uppy.getFiles()) this.uppy.removeFile(done.id);
    let session: Session;
    if (resume) {
      session = resume;
    } else {
      const created = await this.api.request<UploadCreated>('POST', '/v1/uploads', {
        filename: file.name,
        contentType: contentTypeOf(file),
        size: file.size,
        title: details.title,
        ...(details.description ? { description: details.description } : {}),
        visibility: details.visibility,
      });
      session = created;
      writeStored((all) => [
        ...all.filter((u) => u.fingerprint !== fingerprint(file) || u.owner !== this.owner),
        {
          fingerprint: fingerprint(file),
          owner: this.owner,
          uploadId: created.uploadId,
          videoId: created.videoId,
          partSize: created.partSize,
          partCount: created.partCount,
          size: file.size,
          name: file.name,
          title: details.title,
          savedAt: new Date().toISOString(),
        },
      ]);
    }
    this.sessions.set(file, session);
    this.samples = [];
    this.aborted.delete(session.uploadId);
    this.fileId = this.uppy.addFile({
      name: file.name,
      type: contentTypeOf(file),
      data: file,
      source: 'local',
    });
    if (resume) {
      // Uppy's restore path: it calls listParts and uploads only the parts storage does not have.
      this.uppy.setFileState(this.fileId, {
        s3Multipart: { uploadId: session.uploadId, key: session.videoId },
      } as Partial<UppyFile<Meta, Body>>);
    }
    this.progress(0, file.size);
    void this.uppy.upload().catch((error: unknown) => this.events.onError(describeUploadError(error)));
  }

  /** Pauses or resumes; returns whether it is now paused. */
  togglePause(): boolean {
    if (!this.fileId) return false;
    return Boolean(this.uppy.pauseResume(this.fileId));
  }

  /** Stops the upload and deletes it (and its video) on the server. */
  async cancel(): Promise<void> {
    const file = this.fileId ? this.uppy.getFile(this.fileId) : undefined;
    const session = file?.data instanceof Blob ? this.sessions.get(file.data) : undefined;
    this.uppy.cancelAll();
    this.reset();
    if (session) {
      forgetUpload(session.uploadId);
      await this.abortOnServer(session.uploadId).catch(() => undefined);
    }
    this.events.onCancelled();
  }

  destroy(): void {
    this.uppy.destroy();
  }

  private reset(): void {
    this.fileId = undefined;
    this.samples = [];
  }

  private async abortOnServer(uploadId: string): Promise<void> {
    if (this.aborted.has(uploadId)) return;
    this.aborted.add(uploadId);
    this.signer.forget(uploadId);
    try {
      await this.api.request('DELETE', uploadPath(uploadId));
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) throw error;
    }
  }

  /** Speed over the last ~5 seconds of samples, and the time left at that speed. */
  private progress(bytesUploaded: number, bytesTotal: number): void {
    const now = performance.now();
    this.samples.push({ at: now, bytes: bytesUploaded });
    while (this.samples.length > 2 && now - this.samples[0]!.at > 5000) this.samples.shift();
    const first = this.samples[0]!;
    const elapsed = (now - first.at) / 1000;
    const speed = elapsed >= 0.5 ? (bytesUploaded - first.bytes) / elapsed : undefined;
    const secondsLeft = speed && speed > 0 ? (bytesTotal - bytesUploaded) / speed : undefined;
    this.events.onProgress({ bytesUploaded, bytesTotal, speed, secondsLeft });
  }
}

export function describeUploadError(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  const status = (error as { source?: { status?: number } } | undefined)?.source?.status;
  if (typeof status === 'number' && status > 0)
    return `Storage refused a part of the file (HTTP ${status}). Try again; the upload resumes where it stopped.`;
  if (status === 0 || (error as Error | undefined)?.message === 'Unknown error')
    return 'The connection to storage was lost. Try again; the upload resumes where it stopped.';
  const message = (error as Error | undefined)?.message;
  return message ? message : 'The upload failed.';
}
