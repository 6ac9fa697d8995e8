import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { httpHandler } from '#http/compose.ts';
import { config } from '#shared/config.ts';
import type * as OpenApiDocument from './openapi-document.ts';
import * as routes from './routes.ts';

/**
 * The document as the deployed function has it: written at bundling time by bin/openapi.ts (the same
 * buildOpenApiDocument over the same route table, lib/stateless-stack.ts) beside the handler, so the
 * function bundles neither zod-openapi nor classic zod nor any schema (issue 14: 190 KB and about 25 ms
 * more import CPU when it built the document itself). In a source checkout (the local runtime) there
 * is no such file and the document is built from the route table, by a module the bundle never holds:
 * its specifier is not a literal, so esbuild leaves the import to run time, where it never runs.
 */
const BUNDLED = join(dirname(fileURLToPath(import.meta.url)), 'openapi', 'openapi.json');
const SOURCE = './openapi-document.ts';

let document: Promise<unknown> | undefined;

async function load(): Promise<unknown> {
  try {
    return JSON.parse(readFileSync(BUNDLED, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    const { buildOpenApiDocument } = (await import(SOURCE)) as typeof OpenApiDocument;
    return buildOpenApiDocument(config().version);
  }
}

export const handler = httpHandler(routes.openapi, null, async () => {
  document ??= load().catch((error) => {
    document = undefined;
    throw error;
  });
  return { status: 200, body: await document, headers: { 'Cache-Control': 'public, max-age=300' } };
});
