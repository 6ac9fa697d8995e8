/** The poster and thumbnail of a video, from one input-seeked decode. */
import { stat } from 'node:fs/promises';
import { MediaRejectedError, MediaToolError } from '#core/media/errors.ts';
import type { TranscodePlan } from '#core/media/ladder.ts';
import type { SourceContainer } from '#core/media/probe.ts';
import type { Binaries } from './binaries.ts';
import { guardArgs, QUIET_FFMPEG, type SourceInput, throwIfStorageFailed } from './input.ts';
import { runOverInput, type ToolRun } from './mp4.ts';
import { abortReason, ffmpegFailure, run } from './process.ts';

/** What a poster needs to know of the transcode. */
export interface PosterSource {
  container: SourceContainer;
  plan: TranscodePlan;
  signal?: AbortSignal;
}

/** Candidates for the automatic poster: CANDIDATE_RATE frames a second over CANDIDATE_SECONDS. */
const CANDIDATE_SECONDS = 5;
const CANDIDATE_RATE = 4;

/** Poster at the top rung's size and a 320-wide thumbnail, from one input-seeked decode. */
export async function extractPoster(
  binaries: Binaries,
  options: PosterSource,
  src: SourceInput,
  posterPath: string,
  thumbnailPath: string,
  redact: readonly string[],
): Promise<void> {
  const { plan } = options;
  const grab = async (atSeconds: number) => {
    const { poster, thumbnail } = plan;
    // A representative frame, not merely the one at `atSeconds` (a fade, a cut to black, motion blur):
    // ffmpeg's `thumbnail` filter picks, of CANDIDATE_RATE frames a second over the next few seconds, the
    // one closest to their average histogram. The batch always ends before the input does: the 2018
    // static build spins forever flushing a partial batch at end of input.
    const window = Math.min(CANDIDATE_SECONDS, plan.sourceDurationSeconds - atSeconds - 0.25);
    const candidates = Math.floor(window * CANDIDATE_RATE) - 2;
    const pick = candidates >= 2 ? `fps=${CANDIDATE_RATE},thumbnail=${candidates},` : '';
    const graph =
      `[0:${plan.streams.video}]${pick}split=2[p][t];` +
      `[p]scale=${poster.width}:${poster.height},setsar=1,format=yuvj420p[po];` +
      `[t]scale=${thumbnail.width}:${thumbnail.height},setsar=1,format=yuvj420p[th]`;
    const args = [
      ...QUIET_FFMPEG,
      ...guardArgs(src),
      // Before -i: seek in the demuxer to the nearest keyframe instead of decoding everything up to it.
      '-ss',
      `${atSeconds}`,
      ...(pick ? ['-t', `${window}`] : []),
      '-f',
      options.container,
      '-i',
      src.url,
      '-filter_complex',
      graph,
      '-map',
      '[po]',
      '-frames:v',
      '1',
      '-q:v',
      '3',
      posterPath,
      '-map',
      '[th]',
      '-frames:v',
      '1',
      '-q:v',
      '4',
      thumbnailPath,
    ];
    return run(binaries.ffmpeg, args, { timeoutMs: 60_000, signal: options.signal });
  };
  const exists = async () => (await fileSize(posterPath)) > 0 && (await fileSize(thumbnailPath)) > 0;
  let out = await grab(plan.poster.atSeconds);
  // Seeking past the last video frame (audio longer than video) encodes nothing; the first frame will do.
  if (out.code === 0 && !(await exists()) && plan.poster.atSeconds > 0) out = await grab(0);
  throwIfStorageFailed(src);
  if (out.aborted) throw new MediaToolError(`stopped: ${abortReason(options.signal)}`);
  if (out.timedOut) throw new MediaToolError('timed out: the poster took longer than 60 s');
  if (out.code !== 0) {
    const failure = ffmpegFailure(out, redact);
    throw failure instanceof MediaToolError
      ? new MediaToolError(`poster failed: ${failure.message}`)
      : failure;
  }
  if (!(await exists())) {
    throw new MediaRejectedError(
      'could not be decoded: no picture of the video could be made into a poster; export it again and upload the new file',
    );
  }
}

async function fileSize(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}

/**
 * The frame at `offsetSeconds` of a fenced fragmented MP4 (one segment of a rendition behind its init
 * segment) as a poster and a thumbnail: the owner's chosen frame, decoded from the rendition, so the
 * ladder is never encoded again. Two outputs of one decode (no `split`: the 2018 static build stalls
 * on a split whose outputs end at different times).
 */
export async function extractFrame(
  tool: ToolRun,
  offsetSeconds: number,
  poster: { width: number; height: number; path: string },
  thumbnail: { width: number; height: number; path: string },
): Promise<void> {
  const frame = (size: { width: number; height: number; path: string }, quality: string) => [
    '-map',
    '0:v:0',
    '-ss',
    offsetSeconds.toFixed(3),
    '-frames:v',
    '1',
    '-vf',
    `scale=${size.width}:${size.height},setsar=1,format=yuvj420p`,
    '-q:v',
    quality,
    size.path,
  ];
  await runOverInput(tool, 'poster', [], [...frame(poster, '3'), ...frame(thumbnail, '4')]);
  if ((await fileSize(poster.path)) === 0 || (await fileSize(thumbnail.path)) === 0) {
    throw new MediaRejectedError(`no picture at ${offsetSeconds.toFixed(3)} s of the rendition`);
  }
}
