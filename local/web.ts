import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type WebConfig, webContentSecurityPolicy } from '#shared/web-config.ts';
import type { LocalEndpoint } from './gateway.ts';

/**
 * Serves the browser client (web/dist, built by `npm run build:web`) at `/` for every path the API,
 * docs, token issuer and CDN do not own: static files with their content types (hashed assets cached
 * for a year), `/config.json` generated for this runtime (local sign-in, the API on this same origin),
 * and index.html for any other page path, so the client's routes survive a reload. Stand-in for the
 * CDK's web bucket + CloudFront, which serve the same files with a deploy-time config.json.
 */
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

const RESERVED = [/^\/v1(\/|$)/, /^\/docs(\/|$)/, /^\/local\//, /^\/cdn\//];

export const defaultWebDist = fileURLToPath(new URL('../web/dist', import.meta.url));

export function webEndpoint(options: { distDir?: string; tokenUrl?: string } = {}): LocalEndpoint {
  const root = resolve(options.distDir ?? defaultWebDist);
  return async (req, res, url) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    if (RESERVED.some((pattern) => pattern.test(url.pathname))) return false;

    const reply = (
      status: number,
      type: string,
      body: Buffer | string,
      headers: Record<string, string> = {},
    ) => {
      const bytes = typeof body === 'string' ? Buffer.from(body) : body;
      res.writeHead(status, {
        'Content-Type': type,
        'Content-Length': String(bytes.length),
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
        ...headers,
      });
      res.end(req.method === 'HEAD' ? undefined : bytes);
      return true;
    };

    if (url.pathname === '/config.json') {
      const host = req.headers.host ?? 'localhost';
      const config: WebConfig = {
        apiBaseUrl: `http://${host}`,
        auth: { mode: 'local', tokenUrl: options.tokenUrl ?? '/local/token' },
      };
      return reply(200, CONTENT_TYPES['.json']!, JSON.stringify(config), { 'Cache-Control': 'no-store' });
    }

    let path: string;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
      return reply(400, 'text/plain; charset=utf-8', 'Bad path');
    }
    const file = normalize(join(root, path));
    if (file !== root && !file.startsWith(root + sep))
      return reply(404, 'text/plain; charset=utf-8', 'Not found');
    const found = await stat(file).catch(() => undefined);
    if (found?.isFile()) {
      const hashed = path.startsWith('/assets/');
      return reply(200, CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', await readFile(file), {
        'Cache-Control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
        ...(extname(file) === '.html' ? htmlHeaders() : {}),
      });
    }
    // A missing asset is a 404; any other path is a client route, answered with the app.
    if (extname(path) !== '') return reply(404, 'text/plain; charset=utf-8', 'Not found');
    const index = await readFile(join(root, 'index.html')).catch(() => undefined);
    if (!index) {
      return reply(
        503,
        'text/plain; charset=utf-8',
        'The browser client is not built. Run `npm run build:web` (npm start does it for you).',
      );
    }
    return reply(200, CONTENT_TYPES['.html']!, index, { 'Cache-Control': 'no-cache', ...htmlHeaders() });
  };
}

/** The page talks to this origin (API, /local/token, /cdn/) and PUTs parts to the local S3 on loopback. */
const LOOPBACK = ['http://localhost:*', 'http://127.0.0.1:*'];

function htmlHeaders(): Record<string, string> {
  return {
    'Content-Security-Policy': webContentSecurityPolicy({ connect: LOOPBACK, media: LOOPBACK }),
    'X-Frame-Options': 'DENY',
  };
}
