import { describe, expect, it } from '@jest/globals';
import { buildOpenApiDocument } from '#api/openapi-document.ts';
import { routeList, routes } from '#api/routes.ts';
import { CompleteUploadRequest, CreateUploadRequest, SignPartsRequest, Upload, Video } from '#api/schemas.ts';

/**
 * What the document says beyond its shapes (the conformance test, test/integration/
 * openapi-conformance.test.ts, checks real answers against it).
 */
const document = buildOpenApiDocument('test') as unknown as {
  paths: Record<string, Record<string, Record<string, unknown>>>;
  components: { headers: Record<string, unknown> };
};

/** Every integer schema anywhere in the document, with where it is. */
function integers(node: unknown, at: string, out: Array<{ at: string; schema: Record<string, unknown> }>) {
  if (Array.isArray(node)) {
    for (const [i, child] of node.entries()) integers(child, `${at}/${i}`, out);
  } else if (node && typeof node === 'object') {
    const object = node as Record<string, unknown>;
    const type = object.type;
    if (type === 'integer' || (Array.isArray(type) && type.includes('integer')))
      out.push({ at, schema: object });
    for (const [key, child] of Object.entries(object)) integers(child, `${at}/${key}`, out);
  }
  return out;
}

describe('the OpenAPI document', () => {
  it('has no integer that may be negative, in requests, answers or headers', () => {
    const found = integers(document, '#', []);
    expect(found.length).toBeGreaterThan(20);
    const negative = found.filter(
      ({ schema }) =>
        !(typeof schema.minimum === 'number' && schema.minimum >= 0) &&
        !(typeof schema.exclusiveMinimum === 'number' && schema.exclusiveMinimum >= 0),
    );
    expect(negative.map(({ at }) => at)).toEqual([]);
  });

  it('and neither do the schemas that validate and describe them', () => {
    expect(
      CreateUploadRequest.safeParse({ filename: 'a', contentType: 'video/mp4', size: -1, title: 't' })
        .success,
    ).toBe(false);
    expect(SignPartsRequest.safeParse({ partNumbers: [-1] }).success).toBe(false);
    const upload = {
      uploadId: 'u',
      videoId: 'v',
      status: 'uploading',
      uploadedParts: [],
      expiresAt: new Date().toISOString(),
    };
    expect(
      Upload.safeParse({ ...upload, size: 10, partSize: 10, partCount: 1, bytesUploaded: 0 }).success,
    ).toBe(true);
    expect(
      Upload.safeParse({ ...upload, size: 10, partSize: -10, partCount: 1, bytesUploaded: 0 }).success,
    ).toBe(false);
    expect(
      Upload.safeParse({ ...upload, size: 10, partSize: 10, partCount: 0, bytesUploaded: 0 }).success,
    ).toBe(false);
    expect(Video.shape.width.safeParse(-1).success).toBe(false);
    expect(Video.shape.durationSeconds.safeParse(-0.5).success).toBe(false);
  });

  it('marks a request body required exactly when an empty one is refused', () => {
    const complete = document.paths[routes.completeUpload.path]!.post!.requestBody as { required: boolean };
    expect(complete.required).toBe(false);
    expect(CompleteUploadRequest.safeParse({}).success).toBe(true);
    const create = document.paths[routes.createUpload.path]!.post!.requestBody as { required: boolean };
    expect(create.required).toBe(true);
  });

  it('declares the media types the docs assets are served as', () => {
    const ok = (document.paths[routes.docsAsset.path]!.get!.responses as Record<string, { content: object }>)[
      '200'
    ]!;
    expect(Object.keys(ok.content).sort()).toEqual(['text/css', 'text/javascript']);
  });

  it('declares 405 with Allow and X-Request-Id on every operation, and the headers once, as components', () => {
    expect(Object.keys(document.components.headers).sort()).toEqual(
      [
        'Allow',
        'Location',
        'RateLimit-Limit',
        'RateLimit-Remaining',
        'RateLimit-Reset',
        'Retry-After',
        'WWW-Authenticate',
        'X-Request-Id',
      ].sort(),
    );
    for (const route of routeList) {
      const responses = document.paths[route.path]![route.method.toLowerCase()]!.responses as Record<
        string,
        { headers: Record<string, { $ref: string }> }
      >;
      expect(responses['405']!.headers.Allow).toEqual({ $ref: '#/components/headers/Allow' });
      for (const [status, response] of Object.entries(responses)) {
        expect([status, response.headers['X-Request-Id']]).toEqual([
          status,
          { $ref: '#/components/headers/X-Request-Id' },
        ]);
        // The gateway answers 405 before the handler, so before any bucket is consulted.
        if (route.auth !== 'none' && status !== '405')
          expect(response.headers['RateLimit-Remaining']).toBeDefined();
        else expect(response.headers['RateLimit-Remaining']).toBeUndefined();
      }
      if (route.auth !== 'none') {
        expect(responses['401']!.headers['WWW-Authenticate']).toBeDefined();
        expect(responses['429']!.headers['Retry-After']).toBeDefined();
      }
    }
  });
});
