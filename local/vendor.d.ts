// Minimal typings for the two local stand-ins that ship none.

declare module 's3rver' {
  import type { EventEmitter } from 'node:events';
  import type { IncomingHttpHeaders, IncomingMessage, Server } from 'node:http';
  import type { Readable } from 'node:stream';

  interface S3rverOptions {
    address?: string;
    port?: number;
    silent?: boolean;
    directory?: string;
    resetOnClose?: boolean;
    allowMismatchedSignatures?: boolean;
    vhostBuckets?: boolean;
    configureBuckets?: Array<{ name: string; configs?: Array<string | Buffer> }>;
  }

  /** The slice of Koa's context that middleware in front of s3rver's own uses. */
  export interface S3rverContext {
    method: string;
    path: string;
    querystring: string;
    query: Record<string, string | string[] | undefined>;
    headers: IncomingHttpHeaders;
    ip: string;
    /** Per-request state, shared by the middleware of one request only. */
    state: Record<string, unknown>;
    req: IncomingMessage | Readable;
    status: number;
    body: unknown;
    type: string;
    get(field: string): string;
    set(field: string, value: string): void;
  }
  export type S3rverMiddleware = (ctx: S3rverContext, next: () => Promise<void>) => Promise<void>;

  export interface CorsRule {
    hasWildcardOrigin: boolean;
    exposeHeaders: string[];
  }

  /** s3rver's on-disk store (lib/stores/filesystem.js): the methods the local extensions reuse. */
  export interface FilesystemStore {
    getResourcePath(bucket: string, key: string | undefined, resource: string): string;
    getBucket(bucket: string): Promise<object | null>;
    getMetadata(bucket: string, key: string): Promise<{ etag: string; 'content-length': number }>;
    putObjectMultipart(
      bucket: string,
      uploadId: string,
      parts: Array<{ number: number; etag: string }>,
    ): Promise<{ md5: string; size: number }>;
    getSubresource(
      bucket: string,
      key: undefined,
      type: 'cors',
    ): Promise<{ matchRule(origin: string, method: string): CorsRule | undefined } | null>;
  }

  /** What s3rver emits as 'event': one S3-like record, with the raw key and a few fields off. */
  export interface S3rverEvent {
    Records: Array<{
      eventName: string;
      requestParameters: { sourceIPAddress: string };
      s3: { bucket: { name: string }; object: { key: string; size?: number; eTag?: string } };
    }>;
  }

  interface KoaLike extends EventEmitter {
    middleware: S3rverMiddleware[];
    /** Koa's request handler, for another listener of the same app. */
    callback(): import('node:http').RequestListener;
  }
  export default class S3rver extends (class {} as new () => KoaLike) {
    constructor(options?: S3rverOptions);
    run(): Promise<import('node:net').AddressInfo>;
    close(): Promise<void>;
    httpServer?: Server;
    store: FilesystemStore;
  }
}

declare module 'dynalite' {
  import type { Server } from 'node:http';

  interface DynaliteOptions {
    path?: string;
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    maxItemSizeKb?: number;
  }
  export default function dynalite(options?: DynaliteOptions): Server;
}
