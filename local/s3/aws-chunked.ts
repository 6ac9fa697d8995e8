import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { S3rverMiddleware } from 's3rver';
import { S3Error } from './errors.ts';

/**
 * Decodes `Content-Encoding: aws-chunked` bodies before s3rver stores them. The SDK sends PutObject and
 * UploadPart with a stream body this way under its default checksum setting (chunk framing plus a
 * trailing checksum), and s3rver would store the framing as if it were the object's bytes.
 *
 * The decoded body is spooled to a temporary file first, so a malformed body is answered with an error
 * before s3rver writes anything, and s3rver then reads plain bytes with the right Content-Length.
 * Chunk signatures and the trailing checksum are not verified.
 */
export function decodeAwsChunked(): S3rverMiddleware {
  return async (ctx, next) => {
    const encodings = ctx
      .get('content-encoding')
      .split(',')
      .map((encoding) => encoding.trim())
      .filter(Boolean);
    if (ctx.method !== 'PUT' || !encodings.includes('aws-chunked')) return next();

    const dir = await mkdtemp(join(tmpdir(), 'videocloud-s3-'));
    try {
      const file = join(dir, 'body');
      const decoder = new AwsChunkedDecoder();
      try {
        await pipeline(ctx.req, decoder, createWriteStream(file));
      } catch {
        throw new S3Error('IncompleteBody', 'The request body is not valid aws-chunked encoding.');
      }
      const declared = ctx.get('x-amz-decoded-content-length');
      if (declared && Number(declared) !== decoder.decodedLength) {
        throw new S3Error(
          'IncompleteBody',
          'You did not provide the number of bytes specified by the header.',
        );
      }
      // S3 strips aws-chunked from the stored Content-Encoding; s3rver keeps whatever header it is given.
      const rest = encodings.filter((encoding) => encoding !== 'aws-chunked');
      if (rest.length > 0) ctx.headers['content-encoding'] = rest.join(',');
      else delete ctx.headers['content-encoding'];
      ctx.headers['content-length'] = String(decoder.decodedLength);
      ctx.req = createReadStream(file);
      await next();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
}

const CRLF = Buffer.from('\r\n');
/** A chunk header is `<hex size>[;chunk-signature=<64 hex>]`; anything much longer is not one. */
const MAX_HEADER_LINE = 256;

/** Framing: `<hex size>[;ext]\r\n<bytes>\r\n` repeated, then `0[;ext]\r\n`, trailers and `\r\n`. */
class AwsChunkedDecoder extends Transform {
  decodedLength = 0;
  private pending: Buffer = Buffer.alloc(0);
  private remaining = 0;
  private state: 'header' | 'data' | 'crlf' | 'trailer' = 'header';

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    try {
      this.consume();
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    callback(this.state === 'trailer' ? null : new Error('aws-chunked body ended inside a chunk'));
  }

  private consume(): void {
    while (this.pending.length > 0 && this.state !== 'trailer') {
      if (this.state === 'header') {
        const end = this.pending.indexOf(CRLF);
        if (end === -1) {
          if (this.pending.length > MAX_HEADER_LINE) throw new Error('aws-chunked header line too long');
          return;
        }
        const hex = this.pending.subarray(0, end).toString('latin1').split(';')[0] ?? '';
        if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) throw new Error('bad aws-chunked chunk size');
        const size = Number.parseInt(hex, 16);
        this.pending = this.pending.subarray(end + CRLF.length);
        this.remaining = size;
        this.state = size === 0 ? 'trailer' : 'data';
      } else if (this.state === 'data') {
        const take = Math.min(this.remaining, this.pending.length);
        this.push(this.pending.subarray(0, take));
        this.decodedLength += take;
        this.pending = this.pending.subarray(take);
        this.remaining -= take;
        if (this.remaining === 0) this.state = 'crlf';
      } else {
        if (this.pending.length < CRLF.length) return;
        if (!this.pending.subarray(0, CRLF.length).equals(CRLF))
          throw new Error('aws-chunked chunk not closed by CRLF');
        this.pending = this.pending.subarray(CRLF.length);
        this.state = 'header';
      }
    }
    // Trailers carry only the checksum, which is not verified.
    if (this.state === 'trailer') this.pending = Buffer.alloc(0);
  }
}
