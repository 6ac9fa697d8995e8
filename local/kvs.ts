import {
  createECDH,
  createHash,
  createHmac,
  createPublicKey,
  type KeyObject,
  randomUUID,
  verify,
} from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';

/**
 * The local stand-in for CloudFront KeyValueStore: one store, persisted to a file, with the two faces the
 * cloud has. The playback gate at the local /cdn/ reads it directly (`get`, as `cf.kvs()` does at an
 * edge), and the KeyValueStore API (DescribeKeyValueStore, GetKey, ListKeys, PutKey, DeleteKey,
 * UpdateKeys, with ETag / If-Match) is served over HTTP so lambdas/adapters/edge-store.ts runs against
 * it unchanged. Like the real API it demands a SigV4A signature (AWS4-ECDSA-P256-SHA256) made with the
 * runtime's credentials, enforces If-Match and the API's size limits, and listens on loopback only.
 */
export interface LocalKeyValueStoreOptions {
  file: string;
  /** The ARN the API names the store by. */
  arn: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

interface StoreFile {
  etag: string;
  items: Record<string, string>;
}

/** The API's limits: key 512 bytes, value 1 KB, store 5 MB, 50 keys per UpdateKeys. */
const LIMITS = { keyBytes: 512, valueBytes: 1024, storeBytes: 5 * 1024 * 1024, keysPerUpdate: 50 };
const SERVICE = 'cloudfront-keyvaluestore';
const ALGORITHM = 'AWS4-ECDSA-P256-SHA256';

export class LocalKeyValueStore {
  private data: StoreFile;
  private readonly created = Math.floor(Date.now() / 1000);

  constructor(
    private readonly file: string,
    readonly arn: string,
  ) {
    this.data = existsSync(file)
      ? (JSON.parse(readFileSync(file, 'utf8')) as StoreFile)
      : { etag: newEtag(), items: {} };
  }

  get(key: string): string | undefined {
    return Object.hasOwn(this.data.items, key) ? this.data.items[key] : undefined;
  }

  get etag(): string {
    return this.data.etag;
  }

  get size(): { ItemCount: number; TotalSizeInBytes: number } {
    const keys = Object.keys(this.data.items);
    return {
      ItemCount: keys.length,
      TotalSizeInBytes: keys.reduce(
        (sum, key) => sum + Buffer.byteLength(key) + Buffer.byteLength(this.data.items[key]!),
        0,
      ),
    };
  }

  /** Applies puts and deletes at once, or throws an ApiError; `ifMatch` must be the current ETag. */
  update(ifMatch: string | undefined, puts: Array<{ Key: string; Value: string }>, deletes: string[]) {
    if (!ifMatch) throw new ApiError(400, 'ValidationException', 'If-Match is required');
    if (ifMatch !== this.data.etag) {
      throw new ApiError(
        409,
        'ConflictException',
        'The ETag does not match: the store changed; read it again',
      );
    }
    if (puts.length + deletes.length > LIMITS.keysPerUpdate) {
      throw new ApiError(400, 'ValidationException', `At most ${LIMITS.keysPerUpdate} keys per update`);
    }
    const items = { ...this.data.items };
    for (const { Key, Value } of puts) {
      if (typeof Key !== 'string' || Key.length === 0 || Buffer.byteLength(Key) > LIMITS.keyBytes) {
        throw new ApiError(400, 'ValidationException', 'Keys are 1 to 512 bytes');
      }
      if (typeof Value !== 'string' || Buffer.byteLength(Value) > LIMITS.valueBytes) {
        throw new ApiError(400, 'ValidationException', 'Values are at most 1 KB');
      }
      items[Key] = Value;
    }
    for (const key of deletes) delete items[key];
    const next: StoreFile = { etag: newEtag(), items };
    const total = Object.entries(items).reduce(
      (sum, [k, v]) => sum + Buffer.byteLength(k) + Buffer.byteLength(v),
      0,
    );
    if (total > LIMITS.storeBytes)
      throw new ApiError(402, 'ServiceQuotaExceededException', 'The store is full (5 MB)');
    this.data = next;
    this.persist();
  }

  describe() {
    return {
      KvsARN: this.arn,
      Created: this.created,
      LastModified: Math.floor(Date.now() / 1000),
      Status: 'READY',
      ...this.size,
    };
  }

  entries(): Array<{ Key: string; Value: string }> {
    return Object.entries(this.data.items)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([Key, Value]) => ({ Key, Value }));
  }

  private persist(): void {
    mkdirSync(dirname(this.file), { recursive: true });
    writeFileSync(`${this.file}.tmp`, JSON.stringify(this.data));
    renameSync(`${this.file}.tmp`, this.file);
  }
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const newEtag = () => `KV${randomUUID().replaceAll('-', '').slice(0, 20).toUpperCase()}`;

export interface LocalKeyValueStoreServer {
  store: LocalKeyValueStore;
  /** `http://localhost:<port>`: the API puts the account id in front (`<account>.localhost`). */
  endpoint: string;
  stop(): Promise<void>;
}

export async function startLocalKeyValueStore(
  options: LocalKeyValueStoreOptions,
): Promise<LocalKeyValueStoreServer> {
  const store = new LocalKeyValueStore(options.file, options.arn);
  const publicKey = sigV4aPublicKey(options.credentials.accessKeyId, options.credentials.secretAccessKey);
  const server: Server = createServer((req, res) => {
    void serve(store, publicKey, options.credentials.accessKeyId, req, res).catch((error: unknown) => {
      const apiError =
        error instanceof ApiError
          ? error
          : new ApiError(500, 'InternalServerException', (error as Error).message);
      reply(res, apiError.status, { Message: apiError.message }, { 'x-amzn-errortype': apiError.type });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    store,
    endpoint: `http://localhost:${(server.address() as AddressInfo).port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function serve(
  store: LocalKeyValueStore,
  publicKey: KeyObject,
  accessKeyId: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 1024 * 1024) throw new ApiError(400, 'ValidationException', 'Request too large');
    chunks.push(chunk as Buffer);
  }
  const body = Buffer.concat(chunks);
  verifySigV4a(req, body, publicKey, accessKeyId);

  const url = new URL(req.url ?? '/', 'http://localhost');
  const match = /^\/key-value-stores\/([^/]+)(\/keys(?:\/([^/]+))?)?$/.exec(url.pathname);
  if (!match || decodeURIComponent(match[1]!) !== store.arn) {
    throw new ApiError(404, 'ResourceNotFoundException', 'No such key value store');
  }
  const key = match[3] === undefined ? undefined : decodeURIComponent(match[3]);
  const ifMatch = req.headers['if-match'];
  const method = req.method ?? 'GET';
  const json = () => (body.length ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {});

  if (!match[2] && method === 'GET') return reply(res, 200, store.describe(), { etag: store.etag });
  if (match[2] && key === undefined && method === 'GET') {
    const all = store.entries();
    const max = Math.min(50, Number(url.searchParams.get('MaxResults') ?? 50) || 50);
    const start = Number(url.searchParams.get('NextToken') ?? 0) || 0;
    const page = all.slice(start, start + max);
    return reply(res, 200, {
      Items: page,
      ...(start + max < all.length ? { NextToken: String(start + max) } : {}),
    });
  }
  if (match[2] && key === undefined && method === 'POST') {
    const input = json() as {
      Puts?: Array<{ Key: string; Value: string }>;
      Deletes?: Array<{ Key: string }>;
    };
    store.update(
      ifMatch,
      input.Puts ?? [],
      (input.Deletes ?? []).map((d) => d.Key),
    );
    return reply(res, 200, store.size, { etag: store.etag });
  }
  if (key !== undefined && method === 'GET') {
    const value = store.get(key);
    if (value === undefined) throw new ApiError(404, 'ResourceNotFoundException', 'No such key');
    return reply(res, 200, { Key: key, Value: value, ...store.size });
  }
  if (key !== undefined && method === 'PUT') {
    store.update(ifMatch, [{ Key: key, Value: String(json().Value ?? '') }], []);
    return reply(res, 200, store.size, { etag: store.etag });
  }
  if (key !== undefined && method === 'DELETE') {
    if (store.get(key) === undefined) throw new ApiError(404, 'ResourceNotFoundException', 'No such key');
    store.update(ifMatch, [], [key]);
    return reply(res, 200, store.size, { etag: store.etag });
  }
  throw new ApiError(400, 'ValidationException', `${method} ${url.pathname} is not an operation of this API`);
}

function reply(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/**
 * Checks a SigV4A (ECDSA P-256) Authorization header: the credential's access key is the runtime's, the
 * date is within 15 minutes, the declared payload hash is the body's, and the DER signature over the
 * string to sign verifies under the public key derived from the secret, as SigV4A defines it.
 */
function verifySigV4a(req: IncomingMessage, body: Buffer, publicKey: KeyObject, accessKeyId: string): void {
  const denied = (message: string) => new ApiError(403, 'AccessDeniedException', message);
  const authorization = String(req.headers.authorization ?? '');
  if (!authorization.startsWith(`${ALGORITHM} `)) throw denied('Requests must be signed with SigV4A');
  const fields = new Map(
    authorization
      .slice(ALGORITHM.length + 1)
      .split(',')
      .map((field) => {
        const [name = '', ...value] = field.trim().split('=');
        return [name, value.join('=')] as const;
      }),
  );
  const [keyId, shortDate, service, terminator] = (fields.get('Credential') ?? '').split('/');
  const signedHeaders = fields.get('SignedHeaders') ?? '';
  const signature = fields.get('Signature') ?? '';
  if (keyId !== accessKeyId) throw denied('The security token included in the request is invalid');
  if (service !== SERVICE || terminator !== 'aws4_request' || !shortDate)
    throw denied('Credential scope is malformed');
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const at = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!at || !amzDate.startsWith(shortDate))
    throw denied('X-Amz-Date is missing or does not match the scope');
  const signedAt = Date.UTC(+at[1]!, +at[2]! - 1, +at[3]!, +at[4]!, +at[5]!, +at[6]!);
  if (Math.abs(Date.now() - signedAt) > 15 * 60_000)
    throw denied('Signature expired: the request time is too skewed');
  const names = signedHeaders.split(';');
  for (const required of ['host', 'x-amz-date', 'x-amz-region-set', 'x-amz-content-sha256']) {
    if (!names.includes(required)) throw denied(`The signature must cover ${required}`);
  }
  const payloadHash = String(req.headers['x-amz-content-sha256'] ?? '');
  if (payloadHash !== createHash('sha256').update(body).digest('hex')) {
    throw denied('The x-amz-content-sha256 header does not match the body');
  }
  const [rawPath = '/', rawQuery = ''] = (req.url ?? '/').split('?');
  const canonicalRequest = [
    req.method,
    canonicalPath(rawPath),
    canonicalQuery(rawQuery),
    ...names.map((name) => `${name}:${headerValue(req, name)}`),
    '',
    signedHeaders,
    payloadHash,
  ].join('\n');
  const stringToSign = [
    ALGORITHM,
    amzDate,
    `${shortDate}/${SERVICE}/aws4_request`,
    createHash('sha256').update(canonicalRequest).digest('hex'),
  ].join('\n');
  const ok =
    /^[0-9a-f]+$/.test(signature) &&
    verify(
      'sha256',
      Buffer.from(stringToSign),
      { key: publicKey, dsaEncoding: 'der' },
      Buffer.from(signature, 'hex'),
    );
  if (!ok) throw denied('The request signature we calculated does not match the signature you provided');
}

function headerValue(req: IncomingMessage, name: string): string {
  const value = req.headers[name];
  return (Array.isArray(value) ? value.join(',') : String(value ?? '')).trim().replace(/\s+/g, ' ');
}

/** SigV4 for services other than S3: dot segments resolved, then every segment URI-encoded a second time. */
function canonicalPath(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const normalized = `/${segments.join('/')}${segments.length > 0 && path.endsWith('/') ? '/' : ''}`;
  return uriEncode(normalized).replace(/%2F/g, '/');
}

function canonicalQuery(query: string): string {
  return query
    .split('&')
    .filter(Boolean)
    .map((pair) => {
      const [name = '', value = ''] = pair.split('=');
      return `${uriEncode(decodeURIComponent(name))}=${uriEncode(decodeURIComponent(value))}`;
    })
    .sort()
    .join('&');
}

function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** P-256's group order n, minus 2: derived private scalars must not exceed it (SigV4A key derivation). */
const N_MINUS_TWO = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc63254f');

/**
 * SigV4A's signing key is derived from the secret: HMAC-SHA256 keyed with "AWS4A" + secret over a fixed
 * input (counter, algorithm, access key id, trial byte, length), retried until the value fits the curve's
 * order; the private scalar is that value plus one. Only the public key is kept.
 */
export function sigV4aPublicKey(accessKeyId: string, secretAccessKey: string): KeyObject {
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  for (let trial = 1; trial < 255; trial++) {
    const fixedInput = Buffer.concat([
      u32(1),
      Buffer.from(ALGORITHM),
      Buffer.from([0]),
      Buffer.from(accessKeyId),
      Buffer.from([trial]),
      u32(256),
    ]);
    const candidate = BigInt(
      `0x${createHmac('sha256', `AWS4A${secretAccessKey}`).update(fixedInput).digest('hex')}`,
    );
    if (candidate > N_MINUS_TWO) continue;
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(Buffer.from((candidate + 1n).toString(16).padStart(64, '0'), 'hex'));
    const point = ecdh.getPublicKey();
    return createPublicKey({
      key: {
        kty: 'EC',
        crv: 'P-256',
        x: point.subarray(1, 33).toString('base64url'),
        y: point.subarray(33).toString('base64url'),
      },
      format: 'jwk',
    });
  }
  throw new Error('could not derive a SigV4A key from these credentials');
}
