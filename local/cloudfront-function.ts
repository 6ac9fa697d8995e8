import { createHash, createHmac } from 'node:crypto';
import vm from 'node:vm';

/**
 * Runs a CloudFront Function's own source (cloudfront-js-2.0) in a separate V8 context, with what that
 * runtime provides: the `crypto` module (createHash, createHmac), the `cloudfront` module's `kvs()` over
 * a local key value store, Buffer, and strict mode. The source's two module imports are its only
 * interface to the outside; anything else it reached for would fail here as it would at the edge.
 */
export interface KeyValueReader {
  get(key: string): string | undefined;
  /** Defaults to `get(key) !== undefined`. */
  exists?(key: string): boolean;
}

export type CfHeaders = Record<string, { value: string }>;

export interface CfRequest {
  method: string;
  uri: string;
  querystring: Record<string, { value: string }>;
  headers: CfHeaders;
  cookies: Record<string, { value: string }>;
}

export interface CfResponse {
  statusCode: number;
  statusDescription?: string;
  headers?: CfHeaders;
  body?: { encoding: 'text' | 'base64'; data: string } | string;
}

export interface CfViewerRequestEvent {
  version: '1.0';
  context: { eventType: 'viewer-request'; requestId: string };
  viewer: { ip: string };
  request: CfRequest;
}

export type ViewerRequestFunction = (event: CfViewerRequestEvent) => Promise<CfRequest | CfResponse>;

const IMPORT_LINE = /^import (\w+) from '(crypto|cloudfront)';\n/gm;

export function loadViewerRequestFunction(source: string, store: KeyValueReader): ViewerRequestFunction {
  const modules: Record<string, unknown> = {
    crypto: { createHash, createHmac },
    cloudfront: {
      kvs: () => ({
        async get(key: string) {
          const value = store.get(key);
          if (value === undefined) throw new Error(`The key ${key} does not exist`);
          return value;
        },
        async exists(key: string) {
          return store.exists ? store.exists(key) : store.get(key) !== undefined;
        },
      }),
    },
  };
  const bindings: Record<string, unknown> = {};
  const body = source.replace(IMPORT_LINE, (_line, name: string, module: string) => {
    bindings[name] = modules[module];
    return '';
  });
  const context = vm.createContext({ ...bindings, Buffer, console });
  vm.runInContext(`'use strict';\n${body}\nglobalThis.__handler = handler;`, context, {
    filename: 'cloudfront-function.js',
  });
  const handler = (context as { __handler?: ViewerRequestFunction }).__handler;
  if (typeof handler !== 'function') throw new Error('the CloudFront Function defines no handler(event)');
  return handler;
}

export const isResponse = (result: CfRequest | CfResponse): result is CfResponse => 'statusCode' in result;
