import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { httpHandler } from '#http/compose.ts';
import { config } from '#shared/config.ts';
import { bundledOpenApiDocument } from '#shared/resources.ts';
import type * as OpenApiDocument from './openapi-document.ts';
import * as routes from './routes.ts';

/**
 * The document as the deployed function has it: written at bundling time by bin/openapi.ts (the same
 * buildOpenApiDocument over the same route table; lib/constructs/bundling.ts) beside the handler, so the
 * function bundles neither zod-openapi nor classic zod nor any schema (issue 14: it was 190 KB, now 77).
 * Run from source (the local runtime, the tests) it builds the document on first request, by a module the
 * bundle never holds: the specifier is not a literal, so esbuild leaves that import to run time.
 */
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const BUNDLED = join(
  dirname(fileURLToPath(import.meta.url)),
  bundledOpenApiDocument.directory,
  bundledOpenApiDocument.file,
);
const SOURCE = './openapi-document.ts';

let document: Promise<unknown> | undefined;

async function load(): Promise<unknown> {
  if (FROM_SOURCE) {
    const { buildOpenApiDocument } = (await import(SOURCE)) as typeof OpenApiDocument;
    return buildOpenApiDocument(config().version);
  }
  try {
    return JSON.parse(readFileSync(BUNDLED, 'utf8'));
  } catch (error) {
    throw new Error(
      `the bundled OpenAPI document ${bundledOpenApiDocument.directory}/${bundledOpenApiDocument.file} cannot be read: the bundling hook (bin/openapi.ts) did not write it`,
      { cause: error },
    );
  }
}

export const handler = httpHandler(routes.openapi, null, async () => {
  document ??= load().catch((error) => {
    document = undefined;
    throw error;
  });
  return { status: 200, body: await document, headers: { 'Cache-Control': 'public, max-age=300' } };
});
