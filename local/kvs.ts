import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import {
  incomingRequest,
  type LocalCredentials,
  readBody,
  SigV4Failure,
  sha256Hex,
  verifySigV4Request,
} from './sigv4.ts';

/**
 * The local stand-in for CloudFront KeyValueStore: one store, persisted to a file, with the two faces the
 * cloud has. The playback gate at the local /cdn/ reads it directly (`get`, as `cf.kvs()` does at an
 * edge), and the KeyValueStore API (DescribeKeyValueStore, GetKey, ListKeys, PutKey, DeleteKey,
 * UpdateKeys, with ETag / If-Match) is served over HTTP so lambdas/adapters/edge-store.ts runs against
 * it unchanged. Like the real API it demands a SigV4A signature (AWS4-ECDSA-P256-SHA256, checked by
 * local/sigv4.ts with the other stand-ins' checks) made with the runtime's credentials, enforces If-Match
 * and the API's size limits, and listens on loopback only.
 */
export interface LocalKeyValueStoreOptions {
  file: string;
  /** The ARN the API names the store by. */
  arn: string;
  credentials: LocalCredentials;
}

interface StoreFile {
  etag: string;
  items: Record<string, string>;
}

/** The API's limits: key 512 bytes, value 1 KB, store 5 MB, 50 keys per UpdateKeys. */
const LIMITS = { keyBytes: 512, valueBytes: 1024, storeBytes: 5 * 1024 * 1024, keysPerUpdate: 50 };
const SERVICE = 'cloudfront-keyvaluestore';

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
  const server: Server = createServer((req, res) => {
    void serve(store, options.credentials, req, res).catch((error: unknown) => {
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
  credentials: LocalCredentials,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const body = await readBody(req, 1024 * 1024);
  if (body === undefined) throw new ApiError(400, 'ValidationException', 'Request too large');
  try {
    verifySigV4Request(incomingRequest(req), {
      credentials,
      service: SERVICE,
      algorithm: 'AWS4-ECDSA-P256-SHA256',
      bodySha256: sha256Hex(body),
    });
  } catch (error) {
    if (!(error instanceof SigV4Failure)) throw error;
    throw new ApiError(403, 'AccessDeniedException', error.message);
  }

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
