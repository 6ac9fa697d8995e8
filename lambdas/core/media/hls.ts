/**
 * The HLS master (multivariant) playlist for the ffmpeg path. We write it ourselves rather than with
 * ffmpeg's -var_stream_map/-master_pl_name (which segfaults on the 2018 static ffmpeg build), and only
 * after every variant is complete, so a player never sees a ladder that is still being written.
 *
 * Segments are fragmented MP4 (CMAF-style `init.mp4` + `.m4s`), not MPEG-TS: both ffmpeg builds we
 * run (5.x and the 2018 static 4.x) write them with separate `-f hls` outputs; they avoid TS's 188-byte
 * packet and PES overhead (several percent, most at low bitrates); Safari (iOS 10+), hls.js and ExoPlayer
 * play them; and the same segments can later be served as DASH. Apple's HLS authoring spec asks for
 * EXT-X-VERSION 7 with fMP4, which is also what ffmpeg writes into each variant playlist.
 */
import type { TranscodePlan } from './ladder.ts';

export const HLS_VERSION = 7;

export interface VariantRef {
  name: string;
  /** Relative to the master playlist, e.g. "720p/index.m3u8". */
  playlistUri: string;
  /** Bits per second over the whole variant (total segment bytes × 8 / total duration). */
  averageBandwidth?: number;
  /** Bits per second of the variant's heaviest segment: what HLS means by BANDWIDTH. */
  peakBandwidth?: number;
  /**
   * CODECS read from the written stream. The plan's is what we asked for, but x264 treats the profile as a
   * ceiling (ultrafast emits Constrained Baseline even when asked for High), and CODECS must say what is there.
   */
  codecs?: string;
  /** The audio group the variant plays with, when several are given (the first otherwise). */
  audioGroupId?: string;
}

/**
 * An audio rendition of the chunked ladder (core/media/chunks.ts), one group per audio bitrate, so every
 * variant carries the audio bitrate its rung plans (as the single-process ladder muxes it).
 */
export interface AudioGroupRef {
  groupId: string;
  /** Relative to the master playlist, e.g. "audio/index.m3u8". */
  uri: string;
  averageBandwidth: number;
  peakBandwidth: number;
}

/**
 * Variants are listed lowest rung first. Players start with the first variant listed (Safari/AVPlayer
 * always; hls.js unless startLevel is set), so lowest-first gives the fastest first frame on any network
 * (a 4 s low-rung segment is a few hundred KB), and adaptive bitrate climbs within a segment or two when the
 * network allows; highest-first would stall a phone on a weak connection before anything played.
 */
export function masterPlaylist(
  plan: TranscodePlan,
  variants: readonly VariantRef[],
  groups: readonly AudioGroupRef[] = [],
): string {
  const fps = plan.frameRate.numerator / plan.frameRate.denominator;
  const entries = variants.map((v) => {
    const rank = plan.renditions.findIndex((p) => p.name === v.name);
    const r = plan.renditions[rank];
    if (!r) throw new Error(`masterPlaylist: rendition '${v.name}' is not in the plan`);
    const audio = v.audioGroupId === undefined ? groups[0] : groups.find((g) => g.groupId === v.audioGroupId);
    if (v.audioGroupId !== undefined && !audio) {
      throw new Error(`masterPlaylist: audio group '${v.audioGroupId}' is not given`);
    }
    // Without measurements, the encoder's VBV ceiling and target bound what the segments can carry.
    // With a separate audio group, a variant's bandwidth is its video's plus the audio's (RFC 8216 4.3.4.2).
    const peak = Math.ceil((v.peakBandwidth ?? r.maxRate + r.audioBitrate) + (audio?.peakBandwidth ?? 0));
    const average = Math.ceil(
      (v.averageBandwidth ?? r.videoBitrate + r.audioBitrate) + (audio?.averageBandwidth ?? 0),
    );
    const attributes = [
      `BANDWIDTH=${Math.max(peak, average)}`,
      `AVERAGE-BANDWIDTH=${average}`,
      `RESOLUTION=${r.width}x${r.height}`,
      `CODECS="${v.codecs ?? r.codecs}"`,
      `FRAME-RATE=${fps.toFixed(3)}`,
      ...(audio ? [`AUDIO="${audio.groupId}"`] : []),
    ];
    return { rank, lines: [`#EXT-X-STREAM-INF:${attributes.join(',')}`, v.playlistUri] };
  });
  // The plan lists renditions highest first.
  entries.sort((a, b) => b.rank - a.rank);
  return [
    '#EXTM3U',
    `#EXT-X-VERSION:${HLS_VERSION}`,
    '#EXT-X-INDEPENDENT-SEGMENTS',
    ...groups.map(
      (g) =>
        `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="${g.groupId}",NAME="Audio",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="${g.uri}"`,
    ),
    ...entries.flatMap((e) => e.lines),
    '',
  ].join('\n');
}

/**
 * "avc1.PPCCLL" from an fMP4 init segment: the profile, constraint flags and level bytes that follow the
 * version byte of the avcC box (ISO/IEC 14496-15). Undefined when there is no H.264 track.
 */
export function avcCodecFromInitSegment(init: Uint8Array): string | undefined {
  const at = Buffer.from(init.buffer, init.byteOffset, init.byteLength).indexOf('avcC');
  if (at < 0 || at + 8 > init.length) return undefined;
  const hex = (i: number) => init[at + i]!.toString(16).padStart(2, '0');
  return `avc1.${hex(5)}${hex(6)}${hex(7)}`;
}

/** A caption track as the master playlist names it. */
export interface SubtitleTrack {
  /** Relative to the master playlist, e.g. "captions/<id>.m3u8". */
  uri: string;
  /** BCP 47 language tag. */
  language: string;
  /** What players list; unique within the group (made so here). */
  name: string;
}

export const SUBTITLE_GROUP = 'subs';

/**
 * The master playlist with exactly these subtitle renditions: earlier `EXT-X-MEDIA:TYPE=SUBTITLES` lines
 * and `SUBTITLES=` attributes are removed, then one EXT-X-MEDIA per track is written before the first
 * variant and every variant names the group. Works on any master (ours or MediaConvert's) without
 * re-encoding; with no tracks it returns the playlist as it was before captions.
 */
export function withSubtitles(master: string, tracks: readonly SubtitleTrack[]): string {
  const lines = master
    .split(/\r?\n/)
    .filter((line) => !(line.startsWith('#EXT-X-MEDIA:') && /(^|[:,])TYPE=SUBTITLES(,|$)/.test(line)))
    .map((line) =>
      line.startsWith('#EXT-X-STREAM-INF:')
        ? line.replace(/,SUBTITLES="[^"]*"|(?<=:)SUBTITLES="[^"]*",?/g, '')
        : line,
    );
  if (tracks.length === 0) return lines.join('\n');
  const used = new Set<string>();
  const media = tracks.map((track) => {
    let name = quotedString(track.name) || track.language;
    for (let n = 2; used.has(name); n++) name = `${quotedString(track.name)} (${n})`;
    used.add(name);
    return (
      `#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="${SUBTITLE_GROUP}",NAME="${name}",` +
      `LANGUAGE="${quotedString(track.language)}",DEFAULT=NO,AUTOSELECT=YES,FORCED=NO,URI="${quotedString(track.uri)}"`
    );
  });
  const firstVariant = lines.findIndex((line) => line.startsWith('#EXT-X-STREAM-INF:'));
  if (firstVariant < 0) throw new Error('withSubtitles: the master playlist has no variants');
  const out = lines.map((line) =>
    line.startsWith('#EXT-X-STREAM-INF:') ? `${line},SUBTITLES="${SUBTITLE_GROUP}"` : line,
  );
  out.splice(firstVariant, 0, ...media);
  return out.join('\n');
}

/** An HLS quoted-string may not hold `"`, CR or LF (RFC 8216 4.2). */
const quotedString = (value: string) => value.replace(/["\r\n]/g, "'").trim();
