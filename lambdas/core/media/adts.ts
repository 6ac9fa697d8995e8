/**
 * ADTS, the framing of a raw AAC stream: each frame starts with a 7- or 9-byte header that carries the
 * frame's length. Audio chunks (core/media/chunks.ts) are encoded to ADTS so their frames can be counted
 * and the priming and pre-roll frames dropped exactly before they are muxed into fMP4.
 */

/** The [start, end) byte range of every ADTS frame in order; throws on a stream that is not ADTS. */
export function adtsFrames(stream: Uint8Array): Array<[start: number, end: number]> {
  const frames: Array<[number, number]> = [];
  let at = 0;
  while (at < stream.length) {
    if (at + 7 > stream.length || stream[at] !== 0xff || (stream[at + 1]! & 0xf6) !== 0xf0) {
      throw new Error(`not an ADTS stream: no frame header at byte ${at}`);
    }
    const length = ((stream[at + 3]! & 0x03) << 11) | (stream[at + 4]! << 3) | (stream[at + 5]! >> 5);
    if (length < 7 || at + length > stream.length) {
      throw new Error(`not an ADTS stream: frame at byte ${at} overruns the stream`);
    }
    frames.push([at, at + length]);
    at += length;
  }
  return frames;
}

/** The frames [skip, skip + keep) of an ADTS stream, as one ADTS stream; throws when there are fewer. */
export function keepAdtsFrames(stream: Uint8Array, skip: number, keep: number): Uint8Array {
  const frames = adtsFrames(stream);
  if (frames.length < skip + keep) {
    throw new Error(`the audio encoder made ${frames.length} frames; the chunk needs ${skip + keep}`);
  }
  if (keep === 0) return new Uint8Array(0);
  return stream.subarray(frames[skip]![0], frames[skip + keep - 1]![1]);
}
