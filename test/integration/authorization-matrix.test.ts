import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RUNTIME_START_MS, startTestRuntime, type TestRuntime } from '#test/helpers/runtime.ts';
import { seedVideo } from '#test/helpers/seed.ts';

/**
 * Every video route × every kind of caller × every kind of video, against a table of expected statuses
 * written out by hand from the API contract (not derived from the policy code). Alice owns every video.
 */
type Actor = 'anonymous' | 'viewer' | 'owner' | 'otherCreator' | 'admin';
type Kind = 'public' | 'unlisted' | 'private' | 'processing' | 'deleted';

const actors: Actor[] = ['anonymous', 'viewer', 'owner', 'otherCreator', 'admin'];
const kinds: Kind[] = ['public', 'unlisted', 'private', 'processing', 'deleted'];

// GET /v1/videos/{id}
const expectedGet: Record<Actor, Record<Kind, number>> = {
  anonymous: { public: 200, unlisted: 200, private: 404, processing: 404, deleted: 404 },
  viewer: { public: 200, unlisted: 200, private: 404, processing: 404, deleted: 404 },
  owner: { public: 200, unlisted: 200, private: 200, processing: 200, deleted: 404 },
  otherCreator: { public: 200, unlisted: 200, private: 404, processing: 404, deleted: 404 },
  admin: { public: 200, unlisted: 200, private: 200, processing: 200, deleted: 404 },
};
// PATCH /v1/videos/{id} with a valid body
const expectedPatch: Record<Actor, Record<Kind, number>> = {
  anonymous: { public: 401, unlisted: 401, private: 401, processing: 401, deleted: 401 },
  viewer: { public: 403, unlisted: 403, private: 404, processing: 404, deleted: 404 },
  owner: { public: 200, unlisted: 200, private: 200, processing: 200, deleted: 404 },
  otherCreator: { public: 403, unlisted: 403, private: 404, processing: 404, deleted: 404 },
  admin: { public: 200, unlisted: 200, private: 200, processing: 200, deleted: 404 },
};
// DELETE /v1/videos/{id}
const expectedDelete: Record<Actor, Record<Kind, number>> = {
  anonymous: { public: 401, unlisted: 401, private: 401, processing: 401, deleted: 401 },
  viewer: { public: 403, unlisted: 403, private: 404, processing: 404, deleted: 404 },
  owner: { public: 204, unlisted: 204, private: 204, processing: 204, deleted: 404 },
  otherCreator: { public: 403, unlisted: 403, private: 404, processing: 404, deleted: 404 },
  admin: { public: 204, unlisted: 204, private: 204, processing: 204, deleted: 404 },
};
// Does the video appear in the default listing (GET /v1/videos)?
const expectedInPublicListing: Record<Kind, boolean> = {
  public: true,
  unlisted: false,
  private: false,
  processing: false,
  deleted: false,
};

describe('authorization matrix for the video routes', () => {
  let runtime: TestRuntime;
  const tokens: Partial<Record<Actor, string>> = {};

  beforeAll(async () => {
    runtime = await startTestRuntime();
    tokens.viewer = await runtime.token('victor', ['viewer']);
    tokens.owner = await runtime.token('alice', ['creator']);
    tokens.otherCreator = await runtime.token('bob', ['creator']);
    tokens.admin = await runtime.token('ada', ['admin']);
  }, RUNTIME_START_MS);
  afterAll(async () => {
    await runtime.close();
  }, 60_000);

  const seed = (kind: Kind) =>
    seedVideo({
      ownerId: 'alice',
      visibility: kind === 'unlisted' ? 'unlisted' : kind === 'private' ? 'private' : 'public',
      status: kind === 'processing' ? 'processing' : 'ready',
      deleted: kind === 'deleted',
    });

  const call = (actor: Actor, method: string, path: string, json?: unknown) =>
    runtime.api(path, {
      method,
      ...(tokens[actor] ? { token: tokens[actor] } : {}),
      ...(json ? { json } : {}),
    });

  for (const actor of actors) {
    for (const kind of kinds) {
      it(`${actor} × ${kind}: GET ${expectedGet[actor][kind]}, PATCH ${expectedPatch[actor][kind]}, DELETE ${expectedDelete[actor][kind]}`, async () => {
        const id = await seed(kind);
        const get = await call(actor, 'GET', `/v1/videos/${id}`);
        expect(get.status).toBe(expectedGet[actor][kind]);

        const patch = await call(actor, 'PATCH', `/v1/videos/${id}`, { title: `renamed by ${actor}` });
        expect(patch.status).toBe(expectedPatch[actor][kind]);
        if (patch.status === 401) expect(patch.headers.get('www-authenticate')).toMatch(/^Bearer/);
        if (patch.status >= 400) expect(patch.headers.get('content-type')).toBe('application/problem+json');

        const doomed = await seed(kind);
        const del = await call(actor, 'DELETE', `/v1/videos/${doomed}`);
        expect(del.status).toBe(expectedDelete[actor][kind]);
        if (del.status === 204) {
          for (const observer of actors)
            expect((await call(observer, 'GET', `/v1/videos/${doomed}`)).status).toBe(404);
        }
      });
    }
  }

  it('lists only public ready videos by default, for every caller', async () => {
    const ids = Object.fromEntries(
      await Promise.all(kinds.map(async (kind) => [kind, await seed(kind)] as const)),
    );
    for (const actor of actors) {
      const listed = new Set<string>();
      let cursor: string | null = null;
      do {
        const response = await call(actor, 'GET', `/v1/videos?limit=100${cursor ? `&cursor=${cursor}` : ''}`);
        expect(response.status).toBe(200);
        const page = (await response.json()) as { items: Array<{ id: string }>; nextCursor: string | null };
        for (const item of page.items) listed.add(item.id);
        cursor = page.nextCursor;
      } while (cursor);
      for (const kind of kinds) expect(listed.has(ids[kind]!)).toBe(expectedInPublicListing[kind]);
    }
  });

  it('lists your own videos in every status with owner=me, and only yours', async () => {
    const ids = await Promise.all(kinds.map((kind) => seed(kind)));
    const mine = (await (await call('owner', 'GET', '/v1/videos?owner=me&limit=100')).json()) as {
      items: Array<{ id: string; ownerId: string }>;
    };
    const mineIds = new Set(mine.items.map((item) => item.id));
    for (const [i, kind] of kinds.entries()) {
      expect(mineIds.has(ids[i]!)).toBe(kind !== 'deleted');
    }
    expect(mine.items.every((item) => item.ownerId === 'alice')).toBe(true);

    const bobs = (await (await call('otherCreator', 'GET', '/v1/videos?owner=me&limit=100')).json()) as {
      items: unknown[];
    };
    expect(bobs.items).toEqual([]);
    expect((await call('anonymous', 'GET', '/v1/videos?owner=me')).status).toBe(401);
    const processing = (await (
      await call('owner', 'GET', '/v1/videos?owner=me&status=processing&limit=100')
    ).json()) as {
      items: Array<{ status: string }>;
    };
    expect(processing.items.length).toBeGreaterThan(0);
    expect(processing.items.every((item) => item.status === 'processing')).toBe(true);
    expect((await call('owner', 'GET', '/v1/videos?status=ready')).status).toBe(400);
  });

  it('narrows a role by the token scopes', async () => {
    const readOnlyOwner = await runtime.token('alice', ['creator'], 'videos:read');
    const id = await seed('private');
    expect((await runtime.api(`/v1/videos/${id}`, { token: readOnlyOwner })).status).toBe(200);
    expect(
      (await runtime.api(`/v1/videos/${id}`, { method: 'PATCH', token: readOnlyOwner, json: { title: 'x' } }))
        .status,
    ).toBe(403);
    expect((await runtime.api(`/v1/videos/${id}`, { method: 'DELETE', token: readOnlyOwner })).status).toBe(
      403,
    );
    const writeOnlyOwner = await runtime.token('alice', ['creator'], 'videos:write');
    // Without videos:read the credential sees what anyone sees: not this private video.
    expect((await runtime.api(`/v1/videos/${id}`, { token: writeOnlyOwner })).status).toBe(404);
  });
});
