/**
 * Writes the OpenAPI document (the same one GET /v1/openapi.json serves) to a file, for linting and for
 * client generators: `npx tsx bin/openapi.ts [out=.build/openapi.json]`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { buildOpenApiDocument } from '../lambdas/api/openapi-document.ts';

const out = process.argv[2] ?? '.build/openapi.json';
const { version } = (await import('../package.json', { with: { type: 'json' } })).default;
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(buildOpenApiDocument(version), null, 2)}\n`);
console.log(`wrote ${out}`);
