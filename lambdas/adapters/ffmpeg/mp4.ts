/**
 * Progressive MP4 downloads from an HLS rendition, without re-encoding: the rendition's init segment and
 * media segments, read through a loopback fence as one fragmented MP4 (adapters/rendition-objects.ts),
 * are remuxed (`-c copy`) into a plain MP4 whose index (moov) comes before the media (`+faststart`), so a
 * browser or player starts at once and seeks by ranges.
 */
import { MediaToolError } from '#core/media/errors.ts';
import type { Binaries } from './binaries.ts';
import { guardArgs, type MediaInput, QUIET_FFMPEG, sourceInput, throwIfStorageFailed } from './input.ts';
import { abortReason, ffmpegFailure, run } from './process.ts';

export interface ToolRun {
  binaries: Binaries;
  /** The fenced rendition (a fragmented MP4: the mov demuxer). */
  input: MediaInput;
  /** A second fenced input of the same kind: the audio rendition a video-only rendition plays with. */
  audio?: MediaInput;
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** Runs ffmpeg over the fenced input with the house guards; a failure says what was being made. */
export async function runOverInput(
  tool: ToolRun,
  what: string,
  before: readonly string[],
  after: readonly string[],
): Promise<void> {
  const src = sourceInput(tool.input);
  const audio = tool.audio && sourceInput(tool.audio);
  const timeoutMs = tool.timeoutMs ?? 240_000;
  const args = [
    ...QUIET_FFMPEG,
    ...guardArgs(src),
    ...before,
    '-f',
    'mov',
    '-i',
    src.url,
    ...(audio ? [...guardArgs(audio), '-f', 'mov', '-i', audio.url] : []),
    ...after,
  ];
  const out = await run(tool.binaries.ffmpeg, args, { timeoutMs, signal: tool.signal });
  throwIfStorageFailed(src);
  if (audio) throwIfStorageFailed(audio);
  if (out.aborted) throw new MediaToolError(`stopped: ${abortReason(tool.signal)}`);
  if (out.timedOut) {
    throw new MediaToolError(`timed out: the ${what} took longer than ${Math.round(timeoutMs / 1000)} s`);
  }
  if (out.code !== 0) {
    const failure = ffmpegFailure(out, [...src.redact, ...(audio?.redact ?? [])]);
    throw new MediaToolError(`${what} failed: ${failure.message}`);
  }
}

/**
 * The rendition as one faststart MP4 at `outputPath` (streams copied, never re-encoded), with its own
 * audio or, when `tool.audio` is given, the audio rendition it plays with.
 */
export async function remuxToMp4(tool: ToolRun, outputPath: string): Promise<void> {
  await runOverInput(
    tool,
    'MP4 download',
    [],
    [
      '-map',
      '0:v:0',
      '-map',
      tool.audio ? '1:a:0' : '0:a:0?',
      '-c',
      'copy',
      '-movflags',
      '+faststart',
      '-f',
      'mp4',
      outputPath,
    ],
  );
}
