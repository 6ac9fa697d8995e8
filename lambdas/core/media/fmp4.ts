/**
 * Just enough ISO BMFF to stitch chunk encodes (core/media/chunks.ts): read a track's timescale from an
 * init segment, and move a media segment's decode times later (`tfdt` in every `traf`, and the `sidx`
 * earliest presentation time). ffmpeg's fMP4 muxer starts every output at decode time 0 whatever
 * -copyts / -output_ts_offset say (it turns the offset into an edit list in the init segment instead),
 * so each chunk's fragments are shifted here by the chunk's start, in place, before upload.
 */

interface Box {
  type: string;
  start: number;
  /** Where the payload starts (after size, type and any 64-bit size). */
  body: number;
  end: number;
}

function* boxes(buf: Buffer, from: number, to: number): Generator<Box> {
  let at = from;
  while (at + 8 <= to) {
    let size = buf.readUInt32BE(at);
    const type = buf.toString('latin1', at + 4, at + 8);
    let body = at + 8;
    if (size === 1) {
      size = Number(buf.readBigUInt64BE(at + 8));
      body = at + 16;
    } else if (size === 0) {
      size = to - at;
    }
    if (size < body - at || at + size > to) throw new Error(`malformed MP4: box ${type} overruns its parent`);
    yield { type, start: at, body, end: at + size };
    at += size;
  }
}

function find(buf: Buffer, from: number, to: number, path: readonly string[]): Box[] {
  const [first, ...rest] = path;
  const found: Box[] = [];
  for (const box of boxes(buf, from, to)) {
    if (box.type !== first) continue;
    if (rest.length === 0) found.push(box);
    else found.push(...find(buf, box.body, box.end, rest));
  }
  return found;
}

/** The (first) track's media timescale, from an init segment's moov/trak/mdia/mdhd. */
export function trackTimescale(init: Uint8Array): number {
  const buf = asBuffer(init);
  const [mdhd] = find(buf, 0, buf.length, ['moov', 'trak', 'mdia', 'mdhd']);
  if (!mdhd) throw new Error('malformed MP4: the init segment has no mdhd');
  const version = buf[mdhd.body]!;
  return buf.readUInt32BE(mdhd.body + (version === 1 ? 20 : 12));
}

/** The avcC record (profile, level, SPS and PPS) of an init segment, hex; undefined without one. */
export function avcConfiguration(init: Uint8Array): string | undefined {
  const buf = asBuffer(init);
  const at = buf.indexOf('avcC');
  if (at < 4) return undefined;
  const size = buf.readUInt32BE(at - 4);
  return buf.subarray(at + 4, at - 4 + size).toString('hex');
}

/** The decode time of a media segment's first fragment, in its timescale. */
export function firstDecodeTime(segment: Uint8Array): bigint {
  const buf = asBuffer(segment);
  const [tfdt] = find(buf, 0, buf.length, ['moof', 'traf', 'tfdt']);
  if (!tfdt) throw new Error('malformed MP4: the segment has no tfdt');
  return buf[tfdt.body] === 1 ? buf.readBigUInt64BE(tfdt.body + 4) : BigInt(buf.readUInt32BE(tfdt.body + 4));
}

/** Adds `ticks` (in the track's timescale) to every decode time in a media segment, in place. */
export function shiftDecodeTimes(segment: Uint8Array, ticks: bigint): void {
  if (ticks === 0n) return;
  const buf = asBuffer(segment);
  const add = (at: number, wide: boolean) => {
    if (wide) {
      buf.writeBigUInt64BE(buf.readBigUInt64BE(at) + ticks, at);
      return;
    }
    const value = BigInt(buf.readUInt32BE(at)) + ticks;
    if (value > 0xffffffffn) throw new Error('decode time does not fit a version 0 box');
    buf.writeUInt32BE(Number(value), at);
  };
  for (const sidx of find(buf, 0, buf.length, ['sidx'])) {
    // version(1) flags(3) reference_ID(4) timescale(4) earliest_presentation_time(4|8)
    add(sidx.body + 12, buf[sidx.body] === 1);
  }
  const tfdts = find(buf, 0, buf.length, ['moof', 'traf', 'tfdt']);
  if (tfdts.length === 0) throw new Error('malformed MP4: the segment has no tfdt');
  for (const tfdt of tfdts) add(tfdt.body + 4, buf[tfdt.body] === 1);
}

/**
 * Sets where presentation starts in the (first) track's media (the edit list's media_time), in place: an
 * AAC track begins with the encoder's priming frame, which players skip this way. ffmpeg's fMP4 muxer
 * writes a one-entry edit list that starts at 0; one is required.
 */
export function setEditListMediaTime(init: Uint8Array, ticks: number): void {
  const buf = asBuffer(init);
  const [elst] = find(buf, 0, buf.length, ['moov', 'trak', 'edts', 'elst']);
  if (!elst) throw new Error('malformed MP4: the init segment has no edit list');
  // version(1) flags(3) entry_count(4), then per entry segment_duration and media_time (4|8 each)
  if (buf.readUInt32BE(elst.body + 4) !== 1) throw new Error('the edit list does not have one entry');
  if (buf[elst.body] === 1) buf.writeBigInt64BE(BigInt(ticks), elst.body + 16);
  else buf.writeInt32BE(ticks, elst.body + 12);
}

/** The edit list's media_time of the (first) track, or undefined without one. */
export function editListMediaTime(init: Uint8Array): number | undefined {
  const buf = asBuffer(init);
  const [elst] = find(buf, 0, buf.length, ['moov', 'trak', 'edts', 'elst']);
  if (!elst || buf.readUInt32BE(elst.body + 4) < 1) return undefined;
  return buf[elst.body] === 1 ? Number(buf.readBigInt64BE(elst.body + 16)) : buf.readInt32BE(elst.body + 12);
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
