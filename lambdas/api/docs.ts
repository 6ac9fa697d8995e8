import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { NotFoundError } from '#core/errors.ts';
import { httpHandler } from '#http/compose.ts';
import * as routes from './routes.ts';

/**
 * Swagger UI, served from this function so /docs works offline and under any API stage prefix (every
 * URL in the page is relative). The CDK bundle copies the two assets next to the handler; in a source
 * checkout they are read from the swagger-ui-dist package.
 */
function assetDirectory(): string {
  const bundled = join(dirname(fileURLToPath(import.meta.url)), 'swagger-ui');
  if (existsSync(bundled)) return bundled;
  return dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
}

const assets: Record<string, { file?: string; text?: string; contentType: string }> = {
  'swagger-ui.css': { file: 'swagger-ui.css', contentType: 'text/css; charset=utf-8' },
  'swagger-ui-bundle.js': { file: 'swagger-ui-bundle.js', contentType: 'text/javascript; charset=utf-8' },
  'init.js': {
    contentType: 'text/javascript; charset=utf-8',
    text: `window.ui = SwaggerUIBundle({ url: 'v1/openapi.json', dom_id: '#swagger-ui', deepLinking: true });\n`,
  },
};

/**
 * The page. Its URLs are relative to the API root (docs/…, v1/openapi.json), which is the page's own
 * directory at /docs; at /docs/ (API Gateway routes it to the /docs resource as well, keeping the slash
 * in the event's path) a <base> points one level up, so every URL, the script's fetch included, resolves
 * the same way under any stage prefix.
 */
const page = (trailingSlash: boolean) => `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
${trailingSlash ? '  <base href="../">\n' : ''}  <title>VideoCloud API</title>
  <link rel="stylesheet" href="docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="docs/swagger-ui-bundle.js"></script>
  <script src="docs/init.js"></script>
</body>
</html>
`;

const DOCS_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

const cache = new Map<string, string>();

const pageHandler = (trailingSlash: boolean) =>
  httpHandler(routes.docs, null, async () => ({
    status: 200,
    raw: page(trailingSlash),
    contentType: 'text/html; charset=utf-8',
    headers: { 'Content-Security-Policy': DOCS_CSP },
  }));
const pageHandlers = { plain: pageHandler(false), slash: pageHandler(true) };

const assetHandler = httpHandler(routes.docsAsset, null, async ({ params }) => {
  const asset = Object.hasOwn(assets, params.asset) ? assets[params.asset] : undefined;
  if (!asset) throw new NotFoundError(`No docs asset named ${params.asset}`);
  let body = cache.get(params.asset);
  if (body === undefined) {
    body = asset.text ?? readFileSync(join(assetDirectory(), asset.file!), 'utf8');
    cache.set(params.asset, body);
  }
  return {
    status: 200,
    raw: body,
    contentType: asset.contentType,
    headers: { 'Cache-Control': 'public, max-age=86400', 'Content-Security-Policy': DOCS_CSP },
  };
});

/** One function serves both docs routes (they share a bundle); API Gateway says which one matched. */
export const handler = (event: APIGatewayProxyEvent, context: Context) =>
  event.resource !== routes.docs.path
    ? assetHandler(event, context)
    : (event.path.endsWith('/') ? pageHandlers.slash : pageHandlers.plain)(event, context);
