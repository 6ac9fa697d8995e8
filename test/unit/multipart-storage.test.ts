/**
 * The S3 side of uploads (lambdas/adapters/multipart.ts over the signed calls of s3-rest.ts), for the
 * answers the local S3 never gives: listings past 1,000 parts, throttling, errors inside a 200, broken
 * connections and uploads that vanished. A loopback server plays S3 here: it verifies every request's
 * SigV4 signature and payload hash with the check the local stand-ins use, and answers in S3's XML. The
 * happy paths run against the local S3 in test/integration/uploads.test.ts.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { incomingRequest, readBody, SigV4Failure, verifySigV4Request } from '#local/sigv4.ts';

const credentials = { accessKeyId: 'AKIDMULTIPARTTEST', secretAccessKey: 'multipart-test-secret-0123456789' };
const bucket = 'videocloud-uploads-test';
const key = 'uploads/0b4f6f0e-2a4e-4a3e-9a7e-8f8a2f9b1c3d/source';

interface Seen {
  method: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: string;
}
let seen: Seen[] = [];
let refused = 0;
/** The test's S3: what to answer to each request (after the signature check). */
let answer: (request: Seen, res: http.ServerResponse) => void;
let server: http.Server;
let storage: InstanceType<typeof import('#adapters/multipart.ts').S3MultipartStorage>;

const xml = (res: http.ServerResponse, status: number, body: string) => {
  res.writeHead(status, { 'Content-Type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
};
const s3Error = (res: http.ServerResponse, status: number, code: string, message: string) =>
  xml(res, status, `<Error><Code>${code}</Code><Message>${message}</Message></Error>`);

beforeAll(async () => {
  server = http.createServer((req, res) => {
    void readBody(req, 1 << 20).then((raw = Buffer.alloc(0)) => {
      try {
        verifySigV4Request(incomingRequest(req), { credentials, service: 's3', region: 'us-east-1' });
        const declared = req.headers['x-amz-content-sha256'];
        if (declared !== createHash('sha256').update(raw).digest('hex')) {
          throw new SigV4Failure('SignatureDoesNotMatch', 'payload hash differs from the body');
        }
      } catch (error) {
        if (!(error instanceof SigV4Failure)) throw error;
        refused++;
        return s3Error(res, 403, 'SignatureDoesNotMatch', error.message);
      }
      const url = new URL(req.url ?? '/', 'http://localhost');
      expect(url.pathname).toBe(`/${bucket}/${key}`);
      const request = {
        method: req.method ?? '',
        query: url.searchParams,
        headers: req.headers,
        body: raw.toString(),
      };
      seen.push(request);
      answer(request, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    S3_ENDPOINT: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    UPLOADS_BUCKET: bucket,
    MEDIA_BUCKET: 'videocloud-media-test',
    STATE_TABLE: 'videocloud-state-test',
    COGNITO_USER_POOL_ID: 'us-east-1_test',
    COGNITO_CLIENT_ID: 'test',
  });
  const { S3MultipartStorage } = await import('#adapters/multipart.ts');
  storage = new S3MultipartStorage();
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  seen = [];
  refused = 0;
});

describe('S3MultipartStorage', () => {
  it('creates an upload with its content type and reads the UploadId', async () => {
    answer = (_request, res) =>
      xml(
        res,
        200,
        `<InitiateMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${key}</Key><UploadId>up&amp;1</UploadId></InitiateMultipartUploadResult>`,
      );
    expect(await storage.create(key, 'video/mp4')).toBe('up&1');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'POST', headers: { 'content-type': 'video/mp4' } });
    expect(seen[0]!.query.has('uploads')).toBe(true);
    expect(refused).toBe(0);
  });

  it('lists every part of a 2,500-part upload, page by page, in order', async () => {
    const page = (from: number, to: number, truncated: boolean) =>
      '<ListPartsResult>' +
      Array.from({ length: to - from + 1 }, (_, i) => to - i)
        .map(
          (n) =>
            `<Part><PartNumber>${n}</PartNumber><ETag>&quot;e${n}&quot;</ETag><Size>${8 << 20}</Size></Part>`,
        )
        .join('') +
      `<IsTruncated>${truncated}</IsTruncated>${truncated ? `<NextPartNumberMarker>${to}</NextPartNumberMarker>` : ''}` +
      '</ListPartsResult>';
    answer = (request, res) => {
      const marker = Number(request.query.get('part-number-marker') ?? 0);
      xml(
        res,
        200,
        marker === 0
          ? page(1, 1000, true)
          : marker === 1000
            ? page(1001, 2000, true)
            : page(2001, 2500, false),
      );
    };
    const parts = await storage.listParts(key, 'upload-1');
    expect(parts).toHaveLength(2500);
    expect(parts!.map((p) => p.partNumber)).toEqual(Array.from({ length: 2500 }, (_, i) => i + 1));
    expect(parts![0]).toEqual({ partNumber: 1, size: 8 << 20, etag: '"e1"' });
    expect(seen.map((r) => r.query.get('part-number-marker'))).toEqual([null, '1000', '2000']);
    expect(seen.every((r) => r.method === 'GET' && r.query.get('uploadId') === 'upload-1')).toBe(true);
  });

  it('answers "no such upload" as undefined, and passes other errors on after the retries', async () => {
    answer = (request, res) =>
      request.query.get('uploadId') === 'gone'
        ? s3Error(res, 404, 'NoSuchUpload', 'The specified upload does not exist.')
        : s3Error(res, 503, 'SlowDown', 'Please reduce your request rate.');
    expect(await storage.listParts(key, 'gone')).toBeUndefined();
    expect(seen).toHaveLength(1);
    await expect(storage.listParts(key, 'busy')).rejects.toThrow('Please reduce your request rate.');
    expect(seen).toHaveLength(1 + 3); // SlowDown is retried, as the SDK's standard mode does
  });

  it('completes with the parts in S3 XML, and reads an error inside a 200 as S3 means it', async () => {
    const parts = [
      { partNumber: 1, size: 5 << 20, etag: '"e1"' },
      { partNumber: 2, size: 10, etag: '"e2"' },
    ];
    answer = (request, res) => {
      const uploadId = request.query.get('uploadId');
      if (uploadId === 'done')
        return xml(
          res,
          200,
          `<CompleteMultipartUploadResult><ETag>&quot;x-2&quot;</ETag></CompleteMultipartUploadResult>`,
        );
      if (uploadId === 'changed')
        return xml(
          res,
          200,
          '<Error><Code>InvalidPart</Code><Message>One or more of the specified parts could not be found.</Message></Error>',
        );
      return s3Error(res, 404, 'NoSuchUpload', 'The specified upload does not exist.');
    };
    expect(await storage.complete(key, 'done', parts)).toBe('completed');
    expect(seen[0]!.body).toBe(
      '<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
        '<Part><ETag>&quot;e1&quot;</ETag><PartNumber>1</PartNumber></Part>' +
        '<Part><ETag>&quot;e2&quot;</ETag><PartNumber>2</PartNumber></Part>' +
        '</CompleteMultipartUpload>',
    );
    expect(await storage.complete(key, 'changed', parts)).toBe('parts-changed');
    expect(await storage.complete(key, 'gone', parts)).toBe('gone');
    expect(refused).toBe(0);
  });

  it('treats aborting an upload that is already gone as done, and a broken connection as an error', async () => {
    answer = (request, res) => {
      if (request.query.get('uploadId') === 'gone') return s3Error(res, 404, 'NoSuchUpload', 'gone');
      res.socket?.destroy(); // the network drops the connection
    };
    await expect(storage.abort(key, 'gone')).resolves.toBeUndefined();
    expect(seen[0]!.method).toBe('DELETE');
    await expect(storage.abort(key, 'x')).rejects.toMatchObject({ code: 'ECONNRESET' });
  });

  it('reports a missing object as undefined, not an error', async () => {
    let heads = 0;
    answer = (_request, res) => {
      heads++;
      res.writeHead(heads === 1 ? 404 : 200, heads === 1 ? {} : { 'Content-Length': '42' });
      res.end();
    };
    expect(await storage.objectSize(key)).toBeUndefined();
    expect(await storage.objectSize(key)).toBe(42);
    expect(seen.map((r) => r.method)).toEqual(['HEAD', 'HEAD']);
  });
});
