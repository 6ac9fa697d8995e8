/**
 * The OpenAPI document against the API it describes: every operation the served document lists is
 * called on the real local runtime, for its success answers and the main error classes (400, 401,
 * 403/404, 405, 409/413/415, 429), and every answer is checked against the document with ajv (JSON
 * Schema 2020-12): its status must be declared for that operation, its media type declared, its body
 * valid against the declared schema, every required header present, every declared header valid, and no
 * header present that the answer does not declare (beyond the transport and security headers every
 * answer has). Coverage is checked at the end: an operation added to the route table without a call
 * here fails this file.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
// Ajv's documented entry for JSON Schema 2020-12 (the dialect of OpenAPI 3.1); the package has no
// exports map, so this is its public surface, not an internal (allowed by name in biome.json).
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import { startTestRuntime, type TestRuntime } from '#test/helpers/runtime.ts';
import { seedVideo } from '#test/helpers/seed.ts';

type Json = Record<string, unknown>;
interface HeaderObject {
  required?: boolean;
  schema: Json;
}
interface ResponseObject {
  description: string;
  headers?: Record<string, HeaderObject | { $ref: string }>;
  content?: Record<string, { schema?: Json }>;
}
interface Operation {
  operationId: string;
  responses: Record<string, ResponseObject>;
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Json>; headers: Record<string, HeaderObject> };
}

/** Headers every answer may carry that an OpenAPI document does not describe: transport and security. */
const UNDOCUMENTED_HEADERS = new Set([
  'content-type',
  'content-length',
  'date',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'cache-control',
  'vary',
  'strict-transport-security',
  'x-content-type-options',
  'x-frame-options',
  'referrer-policy',
  'cross-origin-resource-policy',
  'content-security-policy',
]);
const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

let runtime: TestRuntime;
let receiver: Server;
let receiverUrl: string;
let doc: Document;
let ajv: Ajv2020;
const validators = new Map<string, ValidateFunction>();
/** `METHOD template` -> statuses seen (and conforming). */
const seen = new Map<string, Set<number>>();
const tokens: Record<'alice' | 'bob' | 'viewer' | 'admin' | 'hog', string> = {
  alice: '',
  bob: '',
  viewer: '',
  admin: '',
  hog: '',
};
const saved = { ...process.env };

beforeAll(async () => {
  Object.assign(process.env, {
    UPLOAD_BURST: '4',
    UPLOAD_RATE_PER_MINUTE: '0.5',
    READ_BURST: '1000',
    WRITE_BURST: '1000',
    WEBHOOK_RETRY_SCHEDULE: '1',
  });
  runtime = await startTestRuntime();
  receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'));
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  tokens.alice = await runtime.token('alice', ['creator']);
  tokens.bob = await runtime.token('bob', ['creator']);
  tokens.viewer = await runtime.token('victor', ['viewer']);
  tokens.admin = await runtime.token('ada', ['admin']);
  tokens.hog = await runtime.token('hog', ['creator']);

  // The document as the API serves it, not as the code builds it.
  const served = await runtime.api('/v1/openapi.json');
  const servedText = await served.text();
  doc = JSON.parse(servedText) as Document;
  ajv = new Ajv2020({ strict: true, allErrors: true });
  ajv.addKeyword('example');
  // ajv-formats is CommonJS; its plugin is also its own `default`, which is how TypeScript sees it here.
  formats.default(ajv);
  const definitions = rebase(doc.components.schemas) as Json;
  ajv.addSchema({ $id: 'urn:videocloud:openapi', $defs: definitions });
  await conform('GET', '/v1/openapi.json', served, servedText);
  // Starting the whole runtime takes over a minute on a loaded 2-core machine.
}, 180_000);

afterAll(async () => {
  await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
  await runtime?.close();
  process.env = saved;
}, 60_000);

/** Component references, made absolute so a schema compiled on its own resolves them. */
function rebase(schema: unknown): unknown {
  return JSON.parse(
    JSON.stringify(schema).replaceAll('"#/components/schemas/', '"urn:videocloud:openapi#/$defs/'),
  );
}

function validator(key: string, schema: Json): ValidateFunction {
  let validate = validators.get(key);
  if (!validate) {
    validate = ajv.compile(rebase(schema) as Json);
    validators.set(key, validate);
  }
  return validate;
}

function headerObject(header: HeaderObject | { $ref: string }): HeaderObject {
  if ('$ref' in header) {
    const name = header.$ref.replace('#/components/headers/', '');
    const resolved = doc.components.headers[name];
    if (!resolved) throw new Error(`dangling header reference ${header.$ref}`);
    return resolved;
  }
  return header;
}

/** A header's text as its schema's type: integers are sent as digits. */
function headerValue(value: string, schema: Json): unknown {
  if ((schema.type === 'integer' || schema.type === 'number') && /^-?\d+(\.\d+)?$/.test(value))
    return Number(value);
  return value;
}

/**
 * Everything about one answer that disagrees with the document, in words. For a method the path does
 * not serve (405), the answer is checked against the 405 every operation of the path declares.
 */
function mismatches(method: string, template: string, response: Response, text: string): string[] {
  const problems: string[] = [];
  const where = `${method} ${template} -> ${response.status}`;
  const pathItem = doc.paths[template];
  if (!pathItem) return [`${template} is not a path of the document`];
  const operations = METHODS.flatMap((m) => (pathItem[m] ? [pathItem[m]] : []));
  const operation = pathItem[method.toLowerCase()];
  const declaredFor = operation ? [operation] : operations;
  if (!operation && response.status !== 405)
    problems.push(`${where}: the document has no ${method} on this path, yet the answer is not 405`);
  const declared = declaredFor.map((op) => op.responses[String(response.status)]);
  if (declared.some((d) => d === undefined))
    return [
      ...problems,
      `${where}: status not declared (declared: ${Object.keys(declaredFor[0]!.responses)})`,
    ];
  const spec = declared[0]!;

  // Media type and body.
  const contentType =
    (response.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase() || undefined;
  if (!spec.content) {
    if (text !== '') problems.push(`${where}: a body where none is declared: ${text.slice(0, 200)}`);
    if (contentType) problems.push(`${where}: Content-Type ${contentType} where no body is declared`);
  } else if (!contentType || !spec.content[contentType]) {
    problems.push(
      `${where}: Content-Type ${contentType} is not one of ${Object.keys(spec.content).join(', ')}`,
    );
  } else {
    const schema = spec.content[contentType]!.schema;
    if (schema) {
      let body: unknown = text;
      if (contentType.endsWith('json')) {
        try {
          body = JSON.parse(text);
        } catch {
          problems.push(`${where}: ${contentType} body is not JSON: ${text.slice(0, 200)}`);
        }
      }
      const validate = validator(`${template} ${method} ${response.status} ${contentType}`, schema);
      if (!validate(body))
        problems.push(
          `${where}: body does not match the schema: ${ajv.errorsText(validate.errors)} in ${text.slice(0, 300)}`,
        );
    }
  }

  // Headers: declared ones present when required and well-formed; nothing else but transport.
  const declaredHeaders = new Map(
    Object.entries(spec.headers ?? {}).map(([name, header]) => [name.toLowerCase(), headerObject(header)]),
  );
  for (const [name, header] of declaredHeaders) {
    const value = response.headers.get(name);
    if (value === null) {
      if (header.required) problems.push(`${where}: required header ${name} is missing`);
      continue;
    }
    const validate = validator(`header ${name} ${JSON.stringify(header.schema)}`, header.schema);
    if (!validate(headerValue(value, header.schema)))
      problems.push(`${where}: header ${name}: ${JSON.stringify(value)} ${ajv.errorsText(validate.errors)}`);
  }
  for (const [name] of response.headers) {
    if (!declaredHeaders.has(name) && !UNDOCUMENTED_HEADERS.has(name))
      problems.push(`${where}: header ${name} is not declared for this answer`);
  }
  return problems;
}

async function conform(method: string, template: string, response: Response, text: string) {
  expect(mismatches(method, template, response, text)).toEqual([]);
  const key = `${method} ${template}`;
  if (!seen.has(key)) seen.set(key, new Set());
  seen.get(key)!.add(response.status);
}

interface Call {
  token?: keyof typeof tokens | string;
  json?: unknown;
  body?: string;
  headers?: Record<string, string>;
  query?: string;
}

/**
 * Calls `method template` with the path parameters filled in, checks the answer against the document
 * and expects `status`; returns the parsed JSON body (or the text) and the response.
 */
async function call<T = Json>(
  status: number,
  method: string,
  template: string,
  params: Record<string, string> = {},
  init: Call = {},
): Promise<{ body: T; response: Response }> {
  const path = template.replaceAll(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`no value for {${name}}`);
    return encodeURIComponent(value);
  });
  const token =
    init.token === undefined
      ? undefined
      : init.token in tokens
        ? tokens[init.token as keyof typeof tokens]
        : init.token;
  const response = await runtime.api(`${path}${init.query ? `?${init.query}` : ''}`, {
    method,
    ...(token ? { token } : {}),
    ...(init.json !== undefined ? { json: init.json } : {}),
    ...(init.body !== undefined ? { body: init.body } : {}),
    ...(init.headers ? { headers: init.headers } : {}),
  });
  const text = await response.text();
  await conform(method, template, response, text);
  expect({ call: `${method} ${path}`, status: response.status, text: text.slice(0, 300) }).toEqual({
    call: `${method} ${path}`,
    status,
    text: expect.any(String),
  });
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { body: body as T, response };
}

const uploadBody = (size = 1000) => ({
  filename: 'clip.mp4',
  contentType: 'video/mp4',
  size,
  title: 'conformance',
});

describe('the OpenAPI document describes every answer of the API', () => {
  it('health, the document and Swagger UI (with and without the slash) and its assets', async () => {
    await call(200, 'GET', '/v1/health');
    await call(200, 'GET', '/v1/openapi.json');
    await call(200, 'GET', '/docs');
    // /docs/ is the same resource as /docs (as in API Gateway): the same operation answers.
    const slash = await runtime.api('/docs/');
    await conform('GET', '/docs', slash, await slash.text());
    expect(slash.status).toBe(200);
    const css = await call(200, 'GET', '/docs/{asset}', { asset: 'swagger-ui.css' });
    expect(css.response.headers.get('content-type')).toMatch(/^text\/css/);
    const js = await call(200, 'GET', '/docs/{asset}', { asset: 'init.js' });
    expect(js.response.headers.get('content-type')).toMatch(/^text\/javascript/);
    await call(404, 'GET', '/docs/{asset}', { asset: 'package.json' });
    // Query parameters are strict where declared, and there are none on the health check.
    await call(200, 'GET', '/v1/health', {}, { query: 'x=1' });
  });

  it('identity: the caller, and 401 with a Bearer challenge without or with a bad credential', async () => {
    const me = await call(200, 'GET', '/v1/me', {}, { token: 'alice' });
    expect(me.response.headers.get('ratelimit-limit')).toBe('1000');
    const anonymous = await call(401, 'GET', '/v1/me');
    expect(anonymous.response.headers.get('www-authenticate')).toMatch(/^Bearer/);
    await call(401, 'GET', '/v1/me', {}, { token: 'not-a-token' });
    await call(401, 'GET', '/v1/me', {}, { headers: { 'X-Api-Key': 'vck_nonsense' } });
  });

  it('videos: list, get, update, delete and their refusals', async () => {
    const id = await seedVideo({ ownerId: 'alice', visibility: 'public', status: 'ready' });
    const processing = await seedVideo({ ownerId: 'alice', visibility: 'private', status: 'processing' });
    await call(200, 'GET', '/v1/videos');
    await call(200, 'GET', '/v1/videos', {}, { token: 'alice', query: 'owner=me&limit=2' });
    await call(200, 'GET', '/v1/videos', {}, { query: 'q=conformance' });
    await call(400, 'GET', '/v1/videos', {}, { query: 'limit=0' });
    await call(400, 'GET', '/v1/videos', {}, { query: 'unknown=1' });
    await call(401, 'GET', '/v1/videos', {}, { token: 'garbage' });

    await call(200, 'GET', '/v1/videos/{videoId}', { videoId: id });
    await call(200, 'GET', '/v1/videos/{videoId}', { videoId: processing }, { token: 'alice' });
    await call(404, 'GET', '/v1/videos/{videoId}', { videoId: processing });
    await call(404, 'GET', '/v1/videos/{videoId}', { videoId: 'no-such-video' });

    const params = { videoId: id };
    await call(200, 'PATCH', '/v1/videos/{videoId}', params, { token: 'alice', json: { title: 'renamed' } });
    // An empty body changes nothing and is no error (the body is optional).
    await call(200, 'PATCH', '/v1/videos/{videoId}', params, { token: 'alice' });
    await call(400, 'PATCH', '/v1/videos/{videoId}', params, { token: 'alice', json: { status: 'ready' } });
    await call(400, 'PATCH', '/v1/videos/{videoId}', params, {
      token: 'alice',
      body: '{"title":',
      headers: { 'Content-Type': 'application/json' },
    });
    await call(415, 'PATCH', '/v1/videos/{videoId}', params, {
      token: 'alice',
      body: 'title=x',
      headers: { 'Content-Type': 'text/plain' },
    });
    await call(413, 'PATCH', '/v1/videos/{videoId}', params, {
      token: 'alice',
      json: { description: 'x'.repeat(70 * 1024) },
    });
    await call(403, 'PATCH', '/v1/videos/{videoId}', params, { token: 'viewer', json: { title: 'mine' } });
    await call(401, 'PATCH', '/v1/videos/{videoId}', params, { json: { title: 'anonymous' } });
    await call(404, 'PATCH', '/v1/videos/{videoId}', { videoId: 'gone' }, { token: 'alice', json: {} });

    await call(403, 'DELETE', '/v1/videos/{videoId}', params, { token: 'bob' });
    await call(204, 'DELETE', '/v1/videos/{videoId}', params, { token: 'alice' });
    await call(404, 'DELETE', '/v1/videos/{videoId}', params, { token: 'alice' });
  });

  it('captions: create, list, delete and their refusals', async () => {
    const videoId = await seedVideo({ ownerId: 'alice', visibility: 'public', status: 'ready' });
    const processing = await seedVideo({ ownerId: 'alice', visibility: 'public', status: 'processing' });
    const track = { language: 'en', label: 'English', format: 'vtt', size: 100 };
    const created = await call<{ captionId: string }>(
      201,
      'POST',
      '/v1/videos/{videoId}/captions',
      { videoId },
      { token: 'alice', json: track },
    );
    await call(
      400,
      'POST',
      '/v1/videos/{videoId}/captions',
      { videoId },
      {
        token: 'alice',
        json: { ...track, size: -1 },
      },
    );
    await call(403, 'POST', '/v1/videos/{videoId}/captions', { videoId }, { token: 'bob', json: track });
    await call(
      409,
      'POST',
      '/v1/videos/{videoId}/captions',
      { videoId: processing },
      {
        token: 'alice',
        json: track,
      },
    );
    await call(
      404,
      'POST',
      '/v1/videos/{videoId}/captions',
      { videoId: 'none' },
      { token: 'alice', json: track },
    );

    await call(200, 'GET', '/v1/videos/{videoId}/captions', { videoId }, { token: 'alice' });
    await call(200, 'GET', '/v1/videos/{videoId}/captions', { videoId });
    await call(404, 'GET', '/v1/videos/{videoId}/captions', { videoId: 'none' });

    const params = { videoId, captionId: created.body.captionId };
    await call(403, 'DELETE', '/v1/videos/{videoId}/captions/{captionId}', params, { token: 'bob' });
    await call(204, 'DELETE', '/v1/videos/{videoId}/captions/{captionId}', params, { token: 'alice' });
    await call(404, 'DELETE', '/v1/videos/{videoId}/captions/{captionId}', params, { token: 'alice' });
  });

  it('uploads: create (with Location), sign, progress, complete without a body, abort, and refusals', async () => {
    const created = await call<{ uploadId: string; partCount: number }>(
      201,
      'POST',
      '/v1/uploads',
      {},
      {
        token: 'alice',
        json: uploadBody(),
      },
    );
    const { uploadId } = created.body;
    const location = created.response.headers.get('location')!;
    expect(new URL(location, `${runtime.url}/v1/uploads`).pathname).toBe(`/v1/uploads/${uploadId}`);
    // The Location names the upload: GET it there.
    expect(
      (await runtime.api(new URL(location, `${runtime.url}/v1/uploads`).pathname, { token: tokens.alice }))
        .status,
    ).toBe(200);

    await call(400, 'POST', '/v1/uploads', {}, { token: 'alice', json: { ...uploadBody(), size: -5 } });
    await call(413, 'POST', '/v1/uploads', {}, { token: 'alice', json: uploadBody(21 * 1024 ** 3) });
    await call(
      415,
      'POST',
      '/v1/uploads',
      {},
      {
        token: 'alice',
        json: { ...uploadBody(), contentType: 'image/png' },
      },
    );
    await call(403, 'POST', '/v1/uploads', {}, { token: 'viewer', json: uploadBody() });
    await call(401, 'POST', '/v1/uploads', {}, { json: uploadBody() });

    const params = { uploadId };
    const signed = await call<{ parts: Array<{ url: string; headers: Record<string, string> }> }>(
      200,
      'POST',
      '/v1/uploads/{uploadId}/parts',
      params,
      { token: 'alice', json: { partNumbers: [1] } },
    );
    await call(400, 'POST', '/v1/uploads/{uploadId}/parts', params, {
      token: 'alice',
      json: { partNumbers: [0] },
    });
    await call(404, 'POST', '/v1/uploads/{uploadId}/parts', params, {
      token: 'bob',
      json: { partNumbers: [1] },
    });
    await call(200, 'GET', '/v1/uploads/{uploadId}', params, { token: 'alice' });
    await call(404, 'GET', '/v1/uploads/{uploadId}', params, { token: 'bob' });

    // Complete before the part is there: 409 naming the missing part.
    await call(409, 'POST', '/v1/uploads/{uploadId}/complete', params, { token: 'alice' });
    const part = signed.body.parts[0]!;
    const put = await fetch(part.url, { method: 'PUT', headers: part.headers, body: new Uint8Array(1000) });
    expect(put.status).toBe(200);
    const progress = await call<{ bytesUploaded: number }>(200, 'GET', '/v1/uploads/{uploadId}', params, {
      token: 'alice',
    });
    expect(progress.body.bytesUploaded).toBe(1000);
    // No body at all: the document says it is optional, and so it is.
    await call(202, 'POST', '/v1/uploads/{uploadId}/complete', params, { token: 'alice' });
    await call(202, 'POST', '/v1/uploads/{uploadId}/complete', params, { token: 'alice', json: {} });
    await call(400, 'POST', '/v1/uploads/{uploadId}/complete', params, {
      token: 'alice',
      json: { parts: 'all' },
    });
    await call(404, 'POST', '/v1/uploads/{uploadId}/complete', { uploadId: 'none' }, { token: 'alice' });
    await call(409, 'DELETE', '/v1/uploads/{uploadId}', params, { token: 'alice' });

    const doomed = await call<{ uploadId: string }>(
      201,
      'POST',
      '/v1/uploads',
      {},
      {
        token: 'alice',
        json: uploadBody(),
      },
    );
    await call(404, 'DELETE', '/v1/uploads/{uploadId}', { uploadId: doomed.body.uploadId }, { token: 'bob' });
    await call(
      204,
      'DELETE',
      '/v1/uploads/{uploadId}',
      { uploadId: doomed.body.uploadId },
      { token: 'alice' },
    );
    const aborted = await call<{ status: string }>(
      200,
      'GET',
      '/v1/uploads/{uploadId}',
      {
        uploadId: doomed.body.uploadId,
      },
      { token: 'alice' },
    );
    expect(aborted.body.status).toBe('aborted');
  });

  it('429 with Retry-After and RateLimit-* once the upload budget is spent', async () => {
    let last: { response: Response } | undefined;
    for (let attempt = 0; attempt < 10; attempt++) {
      const response = await runtime.api('/v1/uploads', {
        method: 'POST',
        token: tokens.hog,
        json: uploadBody(),
      });
      const text = await response.text();
      await conform('POST', '/v1/uploads', response, text);
      last = { response };
      if (response.status === 429) break;
      expect(response.status).toBe(201);
    }
    expect(last!.response.status).toBe(429);
    expect(Number(last!.response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(last!.response.headers.get('ratelimit-remaining')).toBe('0');
  });

  it('API keys: create, list, revoke and their refusals', async () => {
    const key = await call<{ id: string; key: string }>(
      201,
      'POST',
      '/v1/api-keys',
      {},
      {
        token: 'alice',
        json: { name: 'conformance', scopes: ['videos:read'] },
      },
    );
    await call(400, 'POST', '/v1/api-keys', {}, { token: 'alice', json: { name: '', scopes: [] } });
    await call(
      403,
      'POST',
      '/v1/api-keys',
      {},
      {
        token: 'viewer',
        json: { name: 'nope', scopes: ['videos:read'] },
      },
    );
    // With the key itself: keys cannot make or list keys.
    await call(403, 'GET', '/v1/api-keys', {}, { headers: { 'X-Api-Key': key.body.key } });
    await call(200, 'GET', '/v1/me', {}, { headers: { 'X-Api-Key': key.body.key } });
    await call(200, 'GET', '/v1/api-keys', {}, { token: 'alice' });
    await call(404, 'DELETE', '/v1/api-keys/{keyId}', { keyId: key.body.id }, { token: 'bob' });
    await call(204, 'DELETE', '/v1/api-keys/{keyId}', { keyId: key.body.id }, { token: 'alice' });
    await call(404, 'DELETE', '/v1/api-keys/{keyId}', { keyId: key.body.id }, { token: 'alice' });
    await call(401, 'GET', '/v1/me', {}, { headers: { 'X-Api-Key': key.body.key } });
  });

  it('the audit log: admins only', async () => {
    await call(200, 'GET', '/v1/audit', {}, { token: 'admin', query: 'limit=5' });
    await call(200, 'GET', '/v1/audit', {}, { token: 'admin', query: 'outcome=denied' });
    await call(400, 'GET', '/v1/audit', {}, { token: 'admin', query: 'outcome=maybe' });
    await call(403, 'GET', '/v1/audit', {}, { token: 'alice' });
  });

  it('webhooks: every operation, with its refusals', async () => {
    const created = await call<{ id: string }>(
      201,
      'POST',
      '/v1/webhooks',
      {},
      {
        token: 'alice',
        json: { url: `${receiverUrl}/hook`, description: 'conformance' },
      },
    );
    const webhookId = created.body.id;
    const location = created.response.headers.get('location')!;
    expect(new URL(location, `${runtime.url}/v1/webhooks`).pathname).toBe(`/v1/webhooks/${webhookId}`);
    await call(400, 'POST', '/v1/webhooks', {}, { token: 'alice', json: { url: 'http://169.254.169.254/' } });
    await call(403, 'POST', '/v1/webhooks', {}, { token: 'viewer', json: { url: `${receiverUrl}/v` } });

    await call(200, 'GET', '/v1/webhooks', {}, { token: 'alice' });
    await call(403, 'GET', '/v1/webhooks', {}, { token: 'viewer' });
    const params = { webhookId };
    await call(200, 'GET', '/v1/webhooks/{webhookId}', params, { token: 'alice' });
    await call(404, 'GET', '/v1/webhooks/{webhookId}', params, { token: 'bob' });
    await call(200, 'PATCH', '/v1/webhooks/{webhookId}', params, {
      token: 'alice',
      json: { events: ['video.ready'] },
    });
    await call(400, 'PATCH', '/v1/webhooks/{webhookId}', params, { token: 'alice', json: { secret: 'x' } });
    await call(200, 'POST', '/v1/webhooks/{webhookId}/rotate-secret', params, { token: 'alice' });
    await call(404, 'POST', '/v1/webhooks/{webhookId}/rotate-secret', params, { token: 'bob' });

    const test = await call<{ deliveryId: string }>(202, 'POST', '/v1/webhooks/{webhookId}/test', params, {
      token: 'alice',
    });
    await call(200, 'GET', '/v1/webhooks/{webhookId}/deliveries', params, { token: 'alice' });
    await call(400, 'GET', '/v1/webhooks/{webhookId}/deliveries', params, {
      token: 'alice',
      query: 'limit=1000',
    });
    const delivery = { webhookId, deliveryId: test.body.deliveryId };
    await call(202, 'POST', '/v1/webhooks/{webhookId}/deliveries/{deliveryId}/retry', delivery, {
      token: 'alice',
    });
    await call(
      404,
      'POST',
      '/v1/webhooks/{webhookId}/deliveries/{deliveryId}/retry',
      { ...delivery, deliveryId: 'none' },
      {
        token: 'alice',
      },
    );

    await call(200, 'PATCH', '/v1/webhooks/{webhookId}', params, {
      token: 'alice',
      json: { enabled: false },
    });
    await call(409, 'POST', '/v1/webhooks/{webhookId}/test', params, { token: 'alice' });
    await call(409, 'POST', '/v1/webhooks/{webhookId}/deliveries/{deliveryId}/retry', delivery, {
      token: 'alice',
    });

    await call(403, 'DELETE', '/v1/webhooks/{webhookId}', params, { token: 'viewer' });
    await call(204, 'DELETE', '/v1/webhooks/{webhookId}', params, { token: 'alice' });
    await call(404, 'DELETE', '/v1/webhooks/{webhookId}', params, { token: 'alice' });
  });

  it('405 with Allow on every path, for a method it does not serve', async () => {
    for (const [template, pathItem] of Object.entries(doc.paths)) {
      const served = METHODS.filter((method) => pathItem[method]).map((m) => m.toUpperCase());
      const other = ['PUT', 'POST', 'DELETE', 'PATCH'].find((method) => !served.includes(method))!;
      const path = template.replaceAll(/\{\w+\}/g, 'x');
      const response = await runtime.api(path, { method: other, token: tokens.alice });
      const text = await response.text();
      expect({ path, status: response.status }).toEqual({ path, status: 405 });
      await conform(other, template, response, text);
      expect(response.headers.get('allow')!.split(', ').sort()).toEqual([...served].sort());
    }
  });

  it('every operation of the document was called and answered as documented, success included', () => {
    const missing: string[] = [];
    for (const [template, pathItem] of Object.entries(doc.paths)) {
      for (const method of METHODS) {
        const operation = pathItem[method];
        if (!operation) continue;
        const statuses = seen.get(`${method.toUpperCase()} ${template}`) ?? new Set();
        if (![...statuses].some((status) => status < 300))
          missing.push(`${method.toUpperCase()} ${template} (${operation.operationId}): no success answer`);
      }
    }
    expect(missing).toEqual([]);
    const all = new Set([...seen.values()].flatMap((statuses) => [...statuses]));
    for (const status of [400, 401, 403, 404, 405, 409, 413, 415, 429]) expect(all.has(status)).toBe(true);
  });

  it('catches drift: an answer the document does not describe is reported', async () => {
    // The checker itself must be able to fail: a 200 with a body missing a required field, an
    // undeclared header, and an undeclared status.
    const fake = (status: number, body: unknown, headers: Record<string, string>) =>
      new Response(JSON.stringify(body), {
        status,
        headers: { 'Content-Type': 'application/json', 'X-Request-Id': 'r1', ...headers },
      });
    const health = { status: 'ok', version: '1', checks: { database: 'ok', storage: 'ok' } };
    expect(mismatches('GET', '/v1/health', fake(200, health, {}), JSON.stringify(health))).toEqual([]);
    const { checks: _, ...partial } = health;
    expect(mismatches('GET', '/v1/health', fake(200, partial, {}), JSON.stringify(partial))).toEqual([
      expect.stringContaining("must have required property 'checks'"),
    ]);
    expect(
      mismatches('GET', '/v1/health', fake(200, health, { 'RateLimit-Limit': '5' }), JSON.stringify(health)),
    ).toEqual([expect.stringContaining('ratelimit-limit is not declared')]);
    expect(mismatches('GET', '/v1/health', fake(202, health, {}), JSON.stringify(health))).toEqual([
      expect.stringContaining('status not declared'),
    ]);
    const noId = new Response('{}', { status: 200, headers: { 'Content-Type': 'application/json' } });
    expect(mismatches('GET', '/v1/openapi.json', noId, '{}')).toEqual([
      expect.stringContaining('required header x-request-id is missing'),
    ]);
  });
});
