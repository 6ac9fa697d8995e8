/**
 * Bounded cost: before anything is encoded, the declared facts of a source (container duration, picture
 * size) are checked against evidence read from its content, and the encode gets a budget.
 *
 * What a transcode costs is set by the declared duration (the encoder makes `duration x fps` frames per
 * rung, duplicating a frame across any gap in the timestamps) and the picture size the decoder meets. A
 * small file can lie about both: a 172 KB Matroska whose last frame is stamped at 14,000 s "is" a
 * 3h53m video; an MJPEG stream whose header says 16x16 carries 16000x16000 pictures. So:
 * - the video packets are read (no decoding; up to MAX_SCANNED_PACKETS) and their timestamps must cover
 *   the span they claim: a jump that the encoder would fill with hours of copies is refused;
 * - the file must hold a plausible number of bytes for its duration;
 * - the first frame is decoded (the decoder capped at MAX_SOURCE_PIXELS) and must have the declared size,
 *   and no packet may be larger than a picture of the declared size could ever need;
 * - the encode that follows is capped at the planned duration and a realtime budget derived from it.
 *
 * A scan that stops at the cap (a long video) still checks everything it read: to hide a jump past it, a
 * file must first hold MAX_SCANNED_PACKETS real frames (about 55 minutes at 30 fps), which bounds what a
 * lie can add to a few times the cost of the real video it carries.
 */
import type { TranscodePlan } from './ladder.ts';
import { formatDuration, type SourceFacts } from './probe.ts';

/** Video packets read at most by the timestamp scan. */
export const MAX_SCANNED_PACKETS = 100_000;

/** The longest a single frame may stay on screen and still count as picture (a slide show's slide). */
export const MAX_FRAME_HOLD_SECONDS = 10;

/** Below this a file cannot hold its declared duration of video (even a still image costs more). */
export const MIN_BITS_PER_SECOND = 1000;

/** Room a compressed picture may take: 8 bytes a pixel (16-bit RGBA, uncompressed) plus headers. */
const MAX_BYTES_PER_PIXEL = 8;
const PACKET_OVERHEAD_BYTES = 256 * 1024;

export interface PacketTime {
  /** Presentation time in seconds (decode time when the container gives no presentation time). */
  seconds: number;
  /** How long the frame lasts, when the container says. */
  durationSeconds?: number;
  bytes: number;
}

/** What the timestamp scan of the video stream found. */
export interface PacketEvidence {
  /** Video packets read. */
  count: number;
  /** True when the scan reached the end of the stream (count is then its frame count). */
  complete: boolean;
  firstSeconds: number;
  lastSeconds: number;
  /** Seconds of the scanned span that hold a picture: each frame counts until the next, at most MAX_FRAME_HOLD_SECONDS. */
  coveredSeconds: number;
  /** The longest stretch without a frame. */
  largestGap: { fromSeconds: number; toSeconds: number } | null;
  largestPacketBytes: number;
}

export interface VideoEvidence {
  packets: PacketEvidence;
  /** Size of the first decoded picture; null when none could be decoded. */
  firstFrame: { width: number; height: number } | null;
}

export function summarizePackets(packets: readonly PacketTime[], complete: boolean): PacketEvidence {
  const times = packets
    .map((p) => p.seconds)
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  const largestPacketBytes = packets.reduce((max, p) => Math.max(max, p.bytes), 0);
  if (times.length === 0) {
    return {
      count: packets.length,
      complete,
      firstSeconds: 0,
      lastSeconds: 0,
      coveredSeconds: 0,
      largestGap: null,
      largestPacketBytes,
    };
  }
  // A typical frame's length, for the last frame (the one with nothing after it).
  const durations = packets.flatMap((p) =>
    p.durationSeconds && p.durationSeconds > 0 ? [p.durationSeconds] : [],
  );
  const lastFrame = Math.min(MAX_FRAME_HOLD_SECONDS, durations.length > 0 ? median(durations) : 0);
  let covered = lastFrame;
  let largestGap: PacketEvidence['largestGap'] = null;
  for (let i = 1; i < times.length; i += 1) {
    const gap = times[i]! - times[i - 1]!;
    covered += Math.min(gap, MAX_FRAME_HOLD_SECONDS);
    if (!largestGap || gap > largestGap.toSeconds - largestGap.fromSeconds) {
      largestGap = { fromSeconds: times[i - 1]!, toSeconds: times[i]! };
    }
  }
  return {
    count: packets.length,
    complete,
    firstSeconds: times[0]!,
    lastSeconds: times[times.length - 1]! + lastFrame,
    coveredSeconds: covered,
    largestGap,
    largestPacketBytes,
  };
}

export type Plausibility = { ok: true } | { ok: false; reason: string };

/**
 * Whether the content backs what the file declares. `coded` is the video stream's size as the container
 * (and ffprobe) state it, before any aspect ratio or rotation; `sizeBytes` the stored object's size.
 */
export function checkPlausible(
  source: SourceFacts,
  coded: { width: number; height: number },
  evidence: VideoEvidence,
  sizeBytes: number,
): Plausibility {
  const declared = formatDuration(source.durationSeconds);
  const { packets, firstFrame } = evidence;
  if (packets.count === 0) return refuse('not a video: the video stream holds no frames');
  if (!firstFrame) {
    return refuse(
      `unreadable: not one frame of the ${coded.width}x${coded.height} video stream could be decoded; ` +
        'the file is damaged or not what it claims to be',
    );
  }
  if (firstFrame.width !== coded.width || firstFrame.height !== coded.height) {
    return refuse(
      `the pictures inside are ${firstFrame.width}x${firstFrame.height} but the file declares ` +
        `${coded.width}x${coded.height}; export the video again`,
    );
  }
  const packetLimit = MAX_BYTES_PER_PIXEL * coded.width * coded.height + PACKET_OVERHEAD_BYTES;
  if (packets.largestPacketBytes > packetLimit) {
    return refuse(
      `a single frame holds ${formatBytes(packets.largestPacketBytes)}, more than any ${coded.width}x${coded.height} ` +
        'picture needs: the pictures inside are larger than the file declares; export the video again',
    );
  }

  // Frames that cover much less than the span they are stamped over: the encoder would fill the rest
  // with copies of one picture, for as long as the timestamps say.
  const span = packets.lastSeconds - packets.firstSeconds;
  const uncovered = span - packets.coveredSeconds;
  if (uncovered > 60 && packets.coveredSeconds < 0.5 * span) {
    const gap = packets.largestGap;
    const jump = gap
      ? `; they jump from ${formatDuration(gap.fromSeconds)} to ${formatDuration(gap.toSeconds)}`
      : '';
    return refuse(
      `declared ${declared} but holds ${packets.count}${packets.complete ? '' : '+'} frames ` +
        `(${formatDuration(packets.coveredSeconds)} of pictures${jump}): timestamps are broken; ` +
        'export the video again',
    );
  }
  // Timestamps past the packets the scan read are not seen; the bytes must still be there for them.
  const bitsPerSecond = (sizeBytes * 8) / source.durationSeconds;
  if (bitsPerSecond < MIN_BITS_PER_SECOND) {
    return refuse(
      `declared ${declared} but the whole file is ${formatBytes(sizeBytes)} (${Math.round(bitsPerSecond)} bit/s): ` +
        'its timestamps are broken; export the video again',
    );
  }
  return { ok: true };
}

export interface WorkEstimate {
  /** Frames the encoder makes per rung, and pixels it encodes over all rungs. */
  outputFrames: number;
  encodedPixels: number;
  /** Pixels the decoder produces. */
  decodedPixels: number;
  /** How long the encode may take before it is stopped (a fault of the worker's, retried). */
  budgetSeconds: number;
}

/** A frame rate x picture size that a worker decodes and scales at about realtime or better. */
const REFERENCE_PIXEL_RATE = 1920 * 1080 * 60;
/** The budget, in multiples of the duration, for a source at or below the reference rate. */
const REALTIME_FACTOR = 4;
const BUDGET_FLOOR_SECONDS = 60;

/**
 * The encode's work and its time budget: 60 s plus four times the duration, scaled up for sources that
 * take more than 1080p60 to decode. `sourceFrames` is the counted frame count when the scan saw them all.
 */
export function estimateWork(plan: TranscodePlan, source: SourceFacts, sourceFrames?: number): WorkEstimate {
  const fps = plan.frameRate.numerator / plan.frameRate.denominator;
  const duration = plan.sourceDurationSeconds;
  const outputFrames = Math.ceil(duration * fps);
  const rungPixels = plan.renditions.reduce((sum, r) => sum + r.width * r.height, 0);
  const frames = sourceFrames ?? Math.ceil(duration * source.frameRate);
  const decodedPixels = frames * source.width * source.height;
  const pixelRate = (source.width * source.height * source.frameRate) / REFERENCE_PIXEL_RATE;
  return {
    outputFrames,
    encodedPixels: outputFrames * rungPixels,
    decodedPixels,
    budgetSeconds: Math.ceil(BUDGET_FLOOR_SECONDS + duration * REALTIME_FACTOR * Math.max(1, pixelRate)),
  };
}

function refuse(reason: string): Plausibility {
  return { ok: false, reason };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** 176128 -> "172 KB", 3_500_000 -> "3.3 MB" (binary units, as file managers show them). */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value >= 10 ? Math.round(value) : Math.round(value * 10) / 10} ${units[unit]}`;
}
