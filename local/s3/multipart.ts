import { createHash } from 'node:crypto';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FilesystemStore, S3rverContext, S3rverMiddleware } from 's3rver';
import { escapeXml, S3Error } from './errors.ts';
import type { ObjectCreation } from './events.ts';
import { objectTarget, readText, sendXml } from './request.ts';

/** S3's floor for every part but the last. */
export const MIN_PART_SIZE = 5 * 1024 * 1024;
const MAX_PARTS_PER_LIST = 1000;
/** s3rver names the owner of everything it stores this way (lib/models/account.js). */
const OWNER = '<ID>123456789000</ID><DisplayName>S3rver</DisplayName>';

interface StoredPart {
  partNumber: number;
  /** Hex md5, without quotes. */
  etag: string;
  size: number;
  lastModified: Date;
}

/**
 * The multipart operations s3rver lacks or gets wrong, answered in front of it from its own on-disk layout
 * (`<bucket>/._S3rver_uploads/<uploadId>/{key,metadata,<n>,<n>.md5}`, lib/stores/filesystem.js):
 * - ListParts (`GET ?uploadId`) and AbortMultipartUpload (`DELETE ?uploadId`), which it refuses;
 * - CompleteMultipartUpload (`POST ?uploadId`), which it does without checking part ETags or the 5 MiB
 *   minimum, stamps with a plain md5 instead of S3's `md5-of-md5s-N` ETag, and announces as
 *   `ObjectCreated:Post`;
 * - UploadPart (`PUT ?uploadId&partNumber`), which it accepts for any upload id, even an aborted one
 *   (recreating its directory), so here an unknown upload is NoSuchUpload first.
 * And like S3, each upload's operations are atomic with respect to each other: Complete and Abort take
 * the upload alone, part uploads and ListParts share it, so a Complete racing an Abort either assembles
 * the object or finds NoSuchUpload, never a half-removed directory (nor a part recreating an aborted one).
 */
export function multipartOperations(
  store: FilesystemStore,
  onCompleted: (creation: ObjectCreation) => void,
): S3rverMiddleware {
  const locks = new KeyedReadWriteLock();
  return async (ctx, next) => {
    const target = objectTarget(ctx);
    const uploadId = ctx.query.uploadId;
    if (!target || typeof uploadId !== 'string' || !['GET', 'DELETE', 'POST', 'PUT'].includes(ctx.method)) {
      return next();
    }
    if (!(await store.getBucket(target.bucket))) {
      throw new S3Error('NoSuchBucket', 'The specified bucket does not exist', { BucketName: target.bucket });
    }
    const exclusive = ctx.method === 'DELETE' || ctx.method === 'POST';
    return locks.run(`${target.bucket}/${uploadId}`, exclusive, async () => {
      const upload = {
        ...target,
        uploadId,
        dir: await uploadDir(store, target.bucket, target.key, uploadId),
      };
      switch (ctx.method) {
        case 'GET':
          return listParts(ctx, upload);
        case 'DELETE':
          await rm(upload.dir, { recursive: true, force: true });
          ctx.status = 204;
          return;
        case 'POST':
          return completeUpload(ctx, store, upload, onCompleted);
        default:
          checkPartNumber(ctx.query.partNumber);
          return next();
      }
    });
  };
}

/** Per-key readers/writer lock, first come first served (a waiting writer holds back later readers). */
class KeyedReadWriteLock {
  private readonly states = new Map<
    string,
    { readers: number; writing: boolean; queue: Array<{ exclusive: boolean; grant: () => void }> }
  >();

  async run<T>(key: string, exclusive: boolean, work: () => Promise<T>): Promise<T> {
    let state = this.states.get(key);
    if (!state) {
      state = { readers: 0, writing: false, queue: [] };
      this.states.set(key, state);
    }
    const current = state;
    const free = () => !current.writing && (!exclusive || current.readers === 0);
    if (current.queue.length > 0 || !free()) {
      await new Promise<void>((grant) => current.queue.push({ exclusive, grant }));
    } else if (exclusive) current.writing = true;
    else current.readers++;
    try {
      return await work();
    } finally {
      if (exclusive) current.writing = false;
      else current.readers--;
      this.drain(key, current);
    }
  }

  private drain(
    key: string,
    state: { readers: number; writing: boolean; queue: Array<{ exclusive: boolean; grant: () => void }> },
  ) {
    while (state.queue.length > 0 && !state.writing) {
      const next = state.queue[0]!;
      if (next.exclusive && state.readers > 0) break;
      state.queue.shift();
      if (next.exclusive) state.writing = true;
      else state.readers++;
      next.grant();
    }
    if (!state.writing && state.readers === 0 && state.queue.length === 0) this.states.delete(key);
  }
}

interface Upload {
  bucket: string;
  key: string;
  uploadId: string;
  dir: string;
}

/** The upload's directory, or NoSuchUpload when the id is unknown, aborted, completed, or for another key. */
async function uploadDir(store: FilesystemStore, bucket: string, key: string, uploadId: string) {
  const noSuchUpload = new S3Error(
    'NoSuchUpload',
    'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
    { UploadId: uploadId },
  );
  // The id becomes a path segment: anything but s3rver's own id alphabet could climb out of the store.
  if (!/^[0-9a-zA-Z_-]{1,128}$/.test(uploadId)) throw noSuchUpload;
  const dir = join(store.getResourcePath(bucket, undefined, 'uploads'), uploadId);
  const storedKey = await readFile(join(dir, 'key'), 'utf8').catch(() => undefined);
  if (storedKey !== key) throw noSuchUpload;
  return dir;
}

function checkPartNumber(value: unknown): void {
  const partNumber = Number(value);
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10_000) {
    throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', {
      ArgumentName: 'partNumber',
      ArgumentValue: String(value),
    });
  }
}

/** Parts whose upload finished: s3rver writes `<n>.md5` only after the part's bytes are all on disk. */
async function storedParts(dir: string): Promise<StoredPart[]> {
  const names = new Set(await readdir(dir));
  const numbers = [...names].filter((name) => /^\d+$/.test(name) && names.has(`${name}.md5`)).map(Number);
  const parts = await Promise.all(
    numbers.map(async (partNumber) => {
      const [info, etag] = await Promise.all([
        stat(join(dir, String(partNumber))),
        readFile(join(dir, `${partNumber}.md5`), 'utf8'),
      ]);
      return { partNumber, etag: etag.trim(), size: info.size, lastModified: info.mtime };
    }),
  );
  return parts.sort((a, b) => a.partNumber - b.partNumber);
}

function nonNegativeInteger(ctx: S3rverContext, name: string, fallback: number): number {
  const raw = ctx.query[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 2_147_483_647) {
    throw new S3Error('InvalidArgument', `Provided ${name} not an integer or within integer range`, {
      ArgumentName: name,
      ArgumentValue: String(raw),
    });
  }
  return value;
}

async function listParts(ctx: S3rverContext, upload: Upload): Promise<void> {
  const maxParts = Math.min(nonNegativeInteger(ctx, 'max-parts', MAX_PARTS_PER_LIST), MAX_PARTS_PER_LIST);
  const marker = nonNegativeInteger(ctx, 'part-number-marker', 0);
  const after = (await storedParts(upload.dir)).filter((part) => part.partNumber > marker);
  const page = after.slice(0, maxParts);
  const truncated = after.length > page.length;
  const parts = page
    .map(
      (part) =>
        `<Part><PartNumber>${part.partNumber}</PartNumber><LastModified>${part.lastModified.toISOString()}</LastModified>` +
        `<ETag>&quot;${part.etag}&quot;</ETag><Size>${part.size}</Size></Part>`,
    )
    .join('');
  sendXml(
    ctx,
    '<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      `<Bucket>${escapeXml(upload.bucket)}</Bucket><Key>${escapeXml(upload.key)}</Key>` +
      `<UploadId>${escapeXml(upload.uploadId)}</UploadId>` +
      `<Initiator>${OWNER}</Initiator><Owner>${OWNER}</Owner><StorageClass>STANDARD</StorageClass>` +
      `<PartNumberMarker>${marker}</PartNumberMarker>` +
      // S3 sends the marker on every page, 0 on an empty one, so pagination must stop on IsTruncated:
      // the SDK's paginateListParts follows the marker alone and never ends, against S3 as here.
      `<NextPartNumberMarker>${page.at(-1)?.partNumber ?? 0}</NextPartNumberMarker>` +
      `<MaxParts>${maxParts}</MaxParts><IsTruncated>${truncated}</IsTruncated>${parts}</ListPartsResult>`,
  );
}

async function completeUpload(
  ctx: S3rverContext,
  store: FilesystemStore,
  upload: Upload,
  onCompleted: (creation: ObjectCreation) => void,
): Promise<void> {
  const requested = parseCompleteRequest(await readText(ctx, 8 * 1024 * 1024));
  const stored = new Map((await storedParts(upload.dir)).map((part) => [part.partNumber, part]));
  // Like S3: every listed part must exist with that ETag before part sizes are looked at.
  const chosen = requested.map((part, index) => {
    if (index > 0 && part.partNumber <= (requested[index - 1]?.partNumber ?? 0)) {
      throw new S3Error(
        'InvalidPartOrder',
        'The list of parts was not in ascending order. Parts must be ordered by part number.',
        { UploadId: upload.uploadId },
      );
    }
    const found = stored.get(part.partNumber);
    if (!found || found.etag !== part.etag) {
      throw new S3Error(
        'InvalidPart',
        "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
        { UploadId: upload.uploadId, PartNumber: part.partNumber, ETag: part.etag },
      );
    }
    return found;
  });
  const tooSmall = chosen.slice(0, -1).find((part) => part.size < MIN_PART_SIZE);
  if (tooSmall) {
    throw new S3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size', {
      ProposedSize: tooSmall.size,
      MinSizeAllowed: MIN_PART_SIZE,
      PartNumber: tooSmall.partNumber,
      ETag: tooSmall.etag,
    });
  }

  const { size } = await store.putObjectMultipart(
    upload.bucket,
    upload.uploadId,
    chosen.map((part) => ({ number: part.partNumber, etag: part.etag })),
  );
  // S3's multipart ETag: the md5 of the parts' binary md5s, then the part count. s3rver reads an object's
  // ETag from this file, so HeadObject, GetObject and ListObjects all report it too.
  const etag = `${createHash('md5')
    .update(Buffer.concat(chosen.map((part) => Buffer.from(part.etag, 'hex'))))
    .digest('hex')}-${chosen.length}`;
  await writeFile(store.getResourcePath(upload.bucket, upload.key, 'object.md5'), etag);

  onCompleted({
    eventName: 'ObjectCreated:CompleteMultipartUpload',
    bucket: upload.bucket,
    key: upload.key,
    size,
    eTag: etag,
    sourceIp: ctx.ip,
  });
  sendXml(
    ctx,
    '<CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      `<Location>http://${escapeXml(ctx.get('host'))}${escapeXml(ctx.path)}</Location>` +
      `<Bucket>${escapeXml(upload.bucket)}</Bucket><Key>${escapeXml(upload.key)}</Key>` +
      `<ETag>&quot;${etag}&quot;</ETag></CompleteMultipartUploadResult>`,
  );
}

/**
 * The part list of a CompleteMultipartUpload body. Its schema is flat (Part elements holding PartNumber,
 * ETag and optional checksums), so matching elements is enough and no XML parser is pulled in.
 */
function parseCompleteRequest(xml: string): Array<{ partNumber: number; etag: string }> {
  const malformed = () =>
    new S3Error(
      'MalformedXML',
      'The XML you provided was not well-formed or did not validate against our published schema',
    );
  if (!/<CompleteMultipartUpload[\s>]/.test(xml)) throw malformed();
  const parts = [...xml.matchAll(/<Part>([\s\S]*?)<\/Part>/g)].map(([, body = '']) => {
    const partNumber = /<PartNumber>\s*(\d+)\s*<\/PartNumber>/.exec(body)?.[1];
    const etag = /<ETag>([\s\S]*?)<\/ETag>/.exec(body)?.[1];
    if (partNumber === undefined || etag === undefined) throw malformed();
    // S3 ignores quotes when comparing ETags; clients send them quoted, entity-escaped or bare.
    return { partNumber: Number(partNumber), etag: unescapeXml(etag).replace(/"/g, '').trim().toLowerCase() };
  });
  if (parts.length === 0) throw malformed();
  return parts;
}

function unescapeXml(value: string): string {
  return value.replace(/&(quot|amp|lt|gt|apos|#34|#x22);/g, (_, entity: string) => {
    const map: Record<string, string> = {
      quot: '"',
      amp: '&',
      lt: '<',
      gt: '>',
      apos: "'",
      '#34': '"',
      '#x22': '"',
    };
    return map[entity] ?? '';
  });
}
