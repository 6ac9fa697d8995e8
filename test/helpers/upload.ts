import { eventually } from './eventually.ts';
import type { TestRuntime } from './runtime.ts';

/** The contract's video object, as tests read it. */
export interface ApiVideo {
  id: string;
  status: string;
  visibility: string;
  failureReason: string | null;
  durationSeconds: number | null;
  width: number | null;
  height: number | null;
  renditions: Array<{ name: string; width: number; height: number; bitrate: number; codecs: string }>;
  playback: { hls: string; poster: string; expiresAt?: string } | null;
}

/**
 * A client's side of an upload, through the API and the presigned part URLs only: create, sign every
 * part, PUT them straight to storage, complete. Returns the video id.
 */
export async function uploadVideo(
  runtime: TestRuntime,
  token: string,
  file: Buffer,
  options: {
    visibility: 'public' | 'unlisted' | 'private';
    title?: string;
    downloads?: 'none' | 'highest' | 'all';
  },
): Promise<string> {
  const title = options.title ?? 'clip';
  const created = await runtime.api('/v1/uploads', {
    method: 'POST',
    token,
    json: {
      filename: `${title}.mp4`,
      contentType: 'video/mp4',
      size: file.length,
      title,
      visibility: options.visibility,
      ...(options.downloads ? { downloads: options.downloads } : {}),
    },
  });
  if (created.status !== 201) throw new Error(`create upload: ${created.status} ${await created.text()}`);
  const { uploadId, videoId, partSize, partCount } = (await created.json()) as {
    uploadId: string;
    videoId: string;
    partSize: number;
    partCount: number;
  };
  const signed = await runtime.api(`/v1/uploads/${uploadId}/parts`, {
    method: 'POST',
    token,
    json: { partNumbers: Array.from({ length: partCount }, (_, i) => i + 1) },
  });
  const { parts } = (await signed.json()) as {
    parts: Array<{ partNumber: number; url: string; headers: Record<string, string> }>;
  };
  for (const part of parts) {
    // Storage is reached by name, as in the cloud (ffmpeg never sees the name: it reads through a fence).
    if (new URL(part.url).hostname !== 'localhost') throw new Error(`part URL not on localhost: ${part.url}`);
    const body = file.subarray((part.partNumber - 1) * partSize, part.partNumber * partSize);
    const put = await fetch(part.url, { method: 'PUT', body: new Uint8Array(body), headers: part.headers });
    if (put.status !== 200) throw new Error(`PUT part ${part.partNumber}: ${put.status} ${await put.text()}`);
  }
  const completed = await runtime.api(`/v1/uploads/${uploadId}/complete`, {
    method: 'POST',
    token,
    json: {},
  });
  if (completed.status !== 202) throw new Error(`complete: ${completed.status} ${await completed.text()}`);
  return videoId;
}

/** The video once it is no longer uploading or processing, read as its owner. */
export async function settledVideo(
  runtime: TestRuntime,
  token: string,
  videoId: string,
  timeoutMs = 180_000,
): Promise<ApiVideo> {
  return eventually(
    async () => {
      const video = (await (await runtime.api(`/v1/videos/${videoId}`, { token })).json()) as ApiVideo;
      if (video.status === 'processing' || video.status === 'uploading')
        throw new Error(`still ${video.status}`);
      return video;
    },
    { timeoutMs, intervalMs: 250, what: `video ${videoId} to settle` },
  );
}
