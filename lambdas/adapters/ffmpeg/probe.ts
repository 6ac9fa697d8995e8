/** ffprobe: what the container declares, and the evidence of what the content really is. */
import { MediaRejectedError, MediaToolError } from '#core/media/errors.ts';
import { type FfprobeOutput, ffprobeOutputSchema, unsupportedContainerReason } from '#core/media/probe.ts';
import {
  MAX_SCANNED_PACKETS,
  type PacketTime,
  summarizePackets,
  type VideoEvidence,
} from '#core/media/work.ts';
import { type Binaries, resolveBinaries } from './binaries.ts';
import { guardArgs, type MediaInput, type SourceInput, sourceInput, throwIfStorageFailed } from './input.ts';
import { ffmpegFailure, lastMeaningfulLine, oversizedPicture, type RunResult, run } from './process.ts';

export interface ProbeOptions {
  timeoutMs?: number;
  maxOutputBytes?: number;
  binaries?: Binaries;
}

/** ffprobe's JSON for a local file or a fenced object, or a MediaRejectedError saying why not. */
export async function probe(input: string | MediaInput, options: ProbeOptions = {}): Promise<FfprobeOutput> {
  const { ffprobe } = options.binaries ?? (await resolveBinaries());
  const src = sourceInput(input);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const args = [
    '-hide_banner',
    '-v',
    'error',
    ...guardArgs(src),
    '-print_format',
    'json',
    '-show_format',
    '-show_streams',
    '-i',
    src.url,
  ];
  const out = await run(ffprobe, args, { timeoutMs, maxStdoutBytes: options.maxOutputBytes ?? 1024 * 1024 });
  throwIfStorageFailed(src);
  if (out.timedOut) throw new MediaToolError(`timed out: ffprobe took longer than ${timeoutMs / 1000} s`);
  if (out.stdoutOverflow) {
    throw new MediaRejectedError(
      'unreadable: the file declares too many streams or tags to be a normal video',
    );
  }
  if (out.code !== 0) throw probeFailure(out, src);
  // The decoder met a picture over the limit while ffprobe looked at the first frames; whatever the
  // header says, that is the file's size.
  const oversized = oversizedPicture(out.stderr);
  if (oversized) throw new MediaRejectedError(oversized);
  let json: unknown;
  try {
    json = JSON.parse(out.stdout);
  } catch {
    throw new MediaRejectedError('unreadable: ffprobe could not describe the file');
  }
  const parsed = ffprobeOutputSchema.safeParse(json);
  if (!parsed.success) throw new MediaRejectedError('unreadable: ffprobe could not parse the file');
  return parsed.data;
}

function probeFailure(out: RunResult, src: SourceInput): Error {
  const blocked = /\[([^\]\s]+) @ 0x[0-9a-f]+\] Format not on whitelist/.exec(out.stderr);
  if (blocked) return new MediaRejectedError(unsupportedContainerReason(blocked[1]!));
  if (/moov atom not found/.test(out.stderr)) {
    return new MediaRejectedError(
      'unreadable: the MP4/MOV file is incomplete or damaged (its moov index is missing); export or upload it again',
    );
  }
  if (/Invalid data found when processing input/.test(out.stderr)) {
    return new MediaRejectedError(
      'unreadable: ffprobe could not parse the file as MP4/MOV or Matroska/WebM video',
    );
  }
  const line = lastMeaningfulLine(out.stderr, src.redact);
  if (out.signal) return new MediaToolError(`ffprobe crashed (${out.signal})${line ? `: ${line}` : ''}`);
  // Trouble reading over http (a refused or reset connection) is ours to retry, not the file's fault.
  if (src.protocols !== 'file' && /Server returned|Connection|timed out|resolve/i.test(line ?? '')) {
    return new MediaToolError(`could not read the source: ${line}`);
  }
  return new MediaRejectedError(`unreadable: ${line ?? 'ffprobe could not parse the file'}`);
}

// ---------------------------------------------------------------------------------------------------------
// Evidence: what the content says, against what the header declares (core/media/work.ts judges it)

export interface InspectOptions {
  binaries?: Binaries;
  /** Time for each of the two reads; a scan cut short by it keeps what it read (complete: false). */
  timeoutMs?: number;
  maxPackets?: number;
}

/**
 * Reads the timestamps and sizes of the video stream's packets (demuxing only, up to `maxPackets`), and
 * decodes its first picture with the decoder capped at MAX_SOURCE_PIXELS, both at once.
 */
export async function inspectVideo(
  input: string | MediaInput,
  streamIndex: number,
  options: InspectOptions = {},
): Promise<VideoEvidence> {
  const binaries = options.binaries ?? (await resolveBinaries());
  const src = sourceInput(input);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const [packets, firstFrame] = await Promise.all([
    scanPackets(binaries, src, streamIndex, options.maxPackets ?? MAX_SCANNED_PACKETS, timeoutMs),
    decodeFirstFrame(binaries, src, streamIndex, timeoutMs),
  ]);
  return { packets, firstFrame };
}

async function scanPackets(
  binaries: Binaries,
  src: SourceInput,
  streamIndex: number,
  maxPackets: number,
  timeoutMs: number,
): Promise<VideoEvidence['packets']> {
  const args = [
    '-hide_banner',
    '-v',
    'error',
    ...guardArgs(src),
    '-select_streams',
    `${streamIndex}`,
    '-read_intervals',
    `%+#${maxPackets}`,
    '-show_entries',
    'packet=pts_time,dts_time,duration_time,size',
    '-print_format',
    'compact=p=0',
    '-i',
    src.url,
  ];
  // About 80 bytes a packet; the cap keeps a hostile file from making ffprobe print without end.
  const out = await run(binaries.ffprobe, args, { timeoutMs, maxStdoutBytes: maxPackets * 200 });
  throwIfStorageFailed(src);
  if (!out.timedOut && !out.stdoutOverflow && out.code !== 0) {
    throw evidenceFailure(out, src, 'reading its packets');
  }
  const lines = out.stdout.split('\n');
  // A scan stopped by the time limit ends mid-line: the last line is not a packet.
  if (out.timedOut || out.stdoutOverflow) lines.pop();
  const packets: PacketTime[] = [];
  for (const line of lines) {
    if (!line) continue;
    const fields = Object.fromEntries(line.split('|').map((kv) => kv.split('=') as [string, string]));
    const pts = Number.parseFloat(fields.pts_time ?? '');
    const dts = Number.parseFloat(fields.dts_time ?? '');
    const duration = Number.parseFloat(fields.duration_time ?? '');
    packets.push({
      seconds: Number.isFinite(pts) ? pts : dts,
      ...(Number.isFinite(duration) ? { durationSeconds: duration } : {}),
      bytes: Number.parseInt(fields.size ?? '0', 10) || 0,
    });
  }
  const complete = out.code === 0 && !out.timedOut && packets.length < maxPackets;
  return summarizePackets(packets, complete);
}

async function decodeFirstFrame(
  binaries: Binaries,
  src: SourceInput,
  streamIndex: number,
  timeoutMs: number,
): Promise<VideoEvidence['firstFrame']> {
  const args = [
    '-hide_banner',
    '-v',
    'error',
    ...guardArgs(src),
    '-select_streams',
    `${streamIndex}`,
    // A few packets: a decoder may need more than one before its first picture comes out.
    '-read_intervals',
    '%+#10',
    '-show_entries',
    'frame=width,height',
    '-print_format',
    'json',
    '-i',
    src.url,
  ];
  const out = await run(binaries.ffprobe, args, { timeoutMs, maxStdoutBytes: 64 * 1024 });
  throwIfStorageFailed(src);
  if (out.timedOut)
    throw new MediaToolError(`timed out: decoding the first frame took longer than ${timeoutMs / 1000} s`);
  if (out.code !== 0) throw evidenceFailure(out, src, 'decoding its first frame');
  const oversized = oversizedPicture(out.stderr);
  if (oversized) throw new MediaRejectedError(oversized);
  const frames = (JSON.parse(out.stdout || '{}') as { frames?: Array<{ width?: number; height?: number }> })
    .frames;
  const first = frames?.find((f) => f.width && f.height);
  return first ? { width: first.width!, height: first.height! } : null;
}

function evidenceFailure(out: RunResult, src: SourceInput, what: string): Error {
  const failure = ffmpegFailure(out, src.redact);
  return failure instanceof MediaToolError
    ? new MediaToolError(`inspecting the source failed ${what}: ${failure.message}`)
    : new MediaRejectedError(`unreadable: ${lastMeaningfulLine(out.stderr, src.redact) ?? `failed ${what}`}`);
}
