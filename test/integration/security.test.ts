import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sharedKysely } from '#adapters/db/connect.ts';
import { RUNTIME_START_MS, startTestRuntime, type TestRuntime } from '#test/helpers/runtime.ts';
import { seedVideo } from '#test/helpers/seed.ts';

/**
 * API keys, rate limits and the audit log through the real local gateway. Rate limits are tightened for
 * this file (the runtime reads them from the environment at start), so buckets run dry within a test.
 */
interface KeyCreated {
  id: string;
  key: string;
  prefix: string;
  name: string;
  scopes: string[];
}
interface AuditItem {
  id: string;
  action: string;
  outcome: 'success' | 'denied';
  status: number;
  actor: { id: string | null; via: string; apiKeyId: string | null };
  target: { type: string; id: string | null } | null;
  requestId: string;
  sourceIp: string;
  occurredAt: string;
}

/** Small, so a few uploads of a few kB fill it. */
const QUOTA = 10_000;

describe('API keys, rate limits, storage quotas and the audit log', () => {
  let runtime: TestRuntime;
  let alice: string;
  let admin: string;
  let viewer: string;
  const saved = { ...process.env };

  beforeAll(async () => {
    Object.assign(process.env, {
      UPLOAD_BURST: '3',
      UPLOAD_RATE_PER_MINUTE: '0.5',
      READ_BURST: '1000',
      WRITE_BURST: '1000',
      STORAGE_QUOTA_BYTES: String(QUOTA),
    });
    runtime = await startTestRuntime();
    alice = await runtime.token('alice', ['creator']);
    admin = await runtime.token('ada', ['admin']);
    viewer = await runtime.token('victor', ['viewer']);
  }, RUNTIME_START_MS);
  afterAll(async () => {
    await runtime.close();
    process.env = saved;
  }, 30_000);

  const withKey = (key: string, path: string, init: RequestInit & { json?: unknown } = {}) =>
    runtime.api(path, { ...init, headers: { 'X-Api-Key': key, ...(init.headers ?? {}) } });
  const createKey = async (token: string, body: unknown) =>
    runtime.api('/v1/api-keys', { method: 'POST', token, json: body });
  const audit = async (query = '') => {
    const response = await runtime.api(`/v1/audit${query}`, { token: admin });
    expect(response.status).toBe(200);
    return (await response.json()) as { items: AuditItem[]; nextCursor: string | null };
  };

  it('creates a key shown once, lists it without the secret, and the key acts as its owner narrowed to its scopes', async () => {
    const response = await createKey(alice, { name: 'ci robot', scopes: ['videos:read'] });
    expect(response.status).toBe(201);
    const created = (await response.json()) as KeyCreated;
    expect(created.key).toMatch(/^vck_[A-Za-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
    expect(created.key.startsWith(created.prefix)).toBe(true);

    const list = await runtime.api('/v1/api-keys', { token: alice });
    const listed = (await list.json()) as { items: Array<Record<string, unknown>> };
    expect(listed.items.map((item) => item.id)).toContain(created.id);
    expect(JSON.stringify(listed)).not.toContain(created.key.slice(17));
    for (const item of listed.items) expect(Object.keys(item).sort()).not.toContain('key');

    const me = await withKey(created.key, '/v1/me');
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ id: 'alice', roles: ['creator'], scopes: ['videos:read'] });

    const privateVideo = await seedVideo({ ownerId: 'alice', visibility: 'private' });
    expect((await withKey(created.key, `/v1/videos/${privateVideo}`)).status).toBe(200);
    // videos:read only: no writes, no uploads.
    const patch = await withKey(created.key, `/v1/videos/${privateVideo}`, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ title: 'nope' }),
    });
    expect(patch.status).toBe(403);
    // A key cannot mint or list keys.
    const mint = await withKey(created.key, '/v1/api-keys', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'child', scopes: ['videos:read'] }),
    });
    expect(mint.status).toBe(403);
  });

  it('refuses scopes beyond the owner, keys for viewers, and bad keys with 401', async () => {
    const narrowToken = await runtime.token('alice', ['creator'], 'videos:read');
    expect((await createKey(narrowToken, { name: 'x', scopes: ['uploads:write'] })).status).toBe(403);
    expect((await createKey(viewer, { name: 'x', scopes: ['videos:read'] })).status).toBe(403);
    expect((await createKey(alice, { name: 'x', scopes: ['admin:all'] })).status).toBe(400);
    expect((await createKey(alice, { name: 'x', scopes: [] })).status).toBe(400);

    for (const bad of ['nonsense', 'vck_AAAAAAAAAAAA_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', '']) {
      const response = await withKey(bad, '/v1/me');
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
    const created = (await (
      await createKey(alice, { name: 'tamper', scopes: ['videos:read'] })
    ).json()) as KeyCreated;
    const tampered = `${created.key.slice(0, -1)}${created.key.endsWith('A') ? 'B' : 'A'}`;
    expect((await withKey(tampered, '/v1/me')).status).toBe(401);
    // Both credentials at once is ambiguous: refused.
    const both = await runtime.api('/v1/me', { token: alice, headers: { 'X-Api-Key': created.key } });
    expect(both.status).toBe(401);
  });

  it("never acts with more than its owner's current roles", async () => {
    const carol = await runtime.token('carol', ['creator']);
    await runtime.api('/v1/me', { token: carol });
    const { key } = (await (
      await createKey(carol, { name: 'ci', scopes: ['videos:read', 'uploads:write'] })
    ).json()) as KeyCreated;
    const upload = () =>
      withKey(key, '/v1/uploads', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ filename: 'a.mp4', contentType: 'video/mp4', size: 1000, title: 'a' }),
      });
    expect((await upload()).status).toBe(201);
    // Carol is demoted to viewer: her next token says so, and her key loses creator with it.
    const demoted = await runtime.token('carol', ['viewer']);
    expect((await runtime.api('/v1/me', { token: demoted })).status).toBe(200);
    expect((await upload()).status).toBe(403);
    expect((await withKey(key, '/v1/videos')).status).toBe(200);
  });

  it('revokes at once; only the owner or an admin can revoke; someone else gets 404', async () => {
    const created = (await (
      await createKey(alice, { name: 'short-lived', scopes: ['videos:read', 'uploads:write'] })
    ).json()) as KeyCreated;
    expect((await withKey(created.key, '/v1/me')).status).toBe(200);
    const bob = await runtime.token('bob', ['creator']);
    expect((await runtime.api(`/v1/api-keys/${created.id}`, { method: 'DELETE', token: bob })).status).toBe(
      404,
    );
    expect((await runtime.api(`/v1/api-keys/${created.id}`, { method: 'DELETE', token: alice })).status).toBe(
      204,
    );
    expect((await withKey(created.key, '/v1/me')).status).toBe(401);
    expect((await runtime.api(`/v1/api-keys/${created.id}`, { method: 'DELETE', token: alice })).status).toBe(
      404,
    );

    const another = (await (
      await createKey(alice, { name: 'admin revokes', scopes: ['videos:read'] })
    ).json()) as KeyCreated;
    expect((await runtime.api(`/v1/api-keys/${another.id}`, { method: 'DELETE', token: admin })).status).toBe(
      204,
    );
    expect((await withKey(another.key, '/v1/me')).status).toBe(401);
  });

  it('rate-limits upload creation per caller with 429, Retry-After and RateLimit-* headers', async () => {
    // A user of their own: carol's API key has spent from carol's budget above.
    const carol = await runtime.token('carla', ['creator']);
    const dave = await runtime.token('dave', ['creator']);
    const create = (token: string) =>
      runtime.api('/v1/uploads', {
        method: 'POST',
        token,
        json: { filename: 'a.mp4', contentType: 'video/mp4', size: 1000, title: 'rate' },
      });
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 5; i++) {
      last = await create(carol);
      statuses.push(last.status);
      if (i === 0) {
        expect(last.headers.get('ratelimit-limit')).toBe('3');
        expect(last.headers.get('ratelimit-remaining')).toBe('2');
      }
    }
    expect(statuses).toEqual([201, 201, 201, 429, 429]);
    expect(last!.headers.get('content-type')).toBe('application/problem+json');
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(last!.headers.get('ratelimit-remaining')).toBe('0');
    expect(Number(last!.headers.get('ratelimit-reset'))).toBeGreaterThan(0);
    // Reads are a separate budget, and another caller has their own bucket.
    expect((await runtime.api('/v1/me', { token: carol })).status).toBe(200);
    expect((await create(dave)).status).toBe(201);
  });

  const uploadAs = (headers: Record<string, string>, body: Record<string, unknown> = {}) =>
    runtime.api('/v1/uploads', {
      method: 'POST',
      headers,
      json: { filename: 'a.mp4', contentType: 'video/mp4', size: 1000, title: 'budget', ...body },
    });

  it('keeps one upload budget per owner: API keys, revoked ones included, never multiply it', async () => {
    const gina = await runtime.token('gina', ['creator']);
    const keys: KeyCreated[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await createKey(gina, { name: `burst ${i}`, scopes: ['uploads:write'] });
      keys.push((await response.json()) as KeyCreated);
    }
    const statuses: number[] = [];
    for (const headers of [
      { Authorization: `Bearer ${gina}` },
      ...keys.map((key) => ({ 'X-Api-Key': key.key })),
    ]) {
      for (let i = 0; i < 3; i++) statuses.push((await uploadAs(headers)).status);
    }
    for (const key of keys) await runtime.api(`/v1/api-keys/${key.id}`, { method: 'DELETE', token: gina });
    // A burst of 3 for gina, whichever credential asks: 12 attempts, 3 creations.
    expect(statuses.filter((status) => status === 201)).toHaveLength(3);
    expect(statuses.filter((status) => status !== 201).every((status) => status === 429)).toBe(true);
    // Revoked keys are refused as bad credentials, and mint nothing.
    for (const key of keys) expect((await uploadAs({ 'X-Api-Key': key.key })).status).toBe(401);
  });

  it('spends the upload budget on accepted creations only: refused requests leave it whole', async () => {
    const hank = await runtime.token('hank', ['creator']);
    const narrow = await runtime.token('hank', ['creator'], 'videos:read');
    const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
    const refusals: Array<[Record<string, string>, Record<string, unknown>, number]> = [
      [bearer(hank), { size: 0 }, 400],
      [bearer(hank), { title: '' }, 400],
      [bearer(hank), { ownerId: 'someone' }, 400],
      [bearer(hank), { size: 21 * 1024 ** 3 }, 413],
      [bearer(hank), { contentType: 'image/png' }, 415],
      [bearer(narrow), {}, 403],
    ];
    for (let round = 0; round < 4; round++) {
      for (const [headers, body, status] of refusals)
        expect((await uploadAs(headers, body)).status).toBe(status);
    }
    // 24 refusals later the whole burst of 3 is still there, and the headers say so.
    const first = await uploadAs(bearer(hank));
    expect(first.status).toBe(201);
    expect(first.headers.get('ratelimit-remaining')).toBe('2');
    expect((await uploadAs(bearer(hank))).status).toBe(201);
    const refused = await uploadAs(bearer(hank), { size: 0 });
    expect(refused.status).toBe(400);
    expect(refused.headers.get('ratelimit-remaining')).toBe('1');
    expect((await uploadAs(bearer(hank))).status).toBe(201);
    expect((await uploadAs(bearer(hank))).status).toBe(429);
  });

  it('lets no mix of concurrent good and bad creations past the bucket', async () => {
    const ivy = await runtime.token('ivy', ['creator']);
    const results = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        uploadAs({ Authorization: `Bearer ${ivy}` }, i % 2 ? { size: 0 } : { title: `race ${i}` }),
      ),
    );
    const created = results.filter((r) => r.status === 201).length;
    expect(created).toBeLessThanOrEqual(3);
    expect(created).toBeGreaterThanOrEqual(1);
    expect(results.every((r) => [201, 400, 429].includes(r.status))).toBe(true);
  });

  describe('storage quotas', () => {
    const me = async (token: string) =>
      (
        (await (await runtime.api('/v1/me', { token })).json()) as {
          quota: { bytesUsed: number; bytesLimit: number | null };
        }
      ).quota;
    const upload = (token: string, size: number) => uploadAs({ Authorization: `Bearer ${token}` }, { size });

    it('shows bytes used and the limit on /v1/me, and refuses an upload over quota with a problem naming both', async () => {
      const jane = await runtime.token('jane', ['creator']);
      expect(await me(jane)).toEqual({ bytesUsed: 0, bytesLimit: QUOTA });
      const first = await upload(jane, 6000);
      expect(first.status).toBe(201);
      const { videoId } = (await first.json()) as { videoId: string };
      expect(await me(jane)).toEqual({ bytesUsed: 6000, bytesLimit: QUOTA });

      const over = await upload(jane, 4001);
      expect(over.status).toBe(413);
      expect(over.headers.get('content-type')).toBe('application/problem+json');
      const problem = (await over.json()) as { type: string; detail: string };
      expect(problem.type).toBe('/problems/storage-quota-exceeded');
      expect(problem.detail).toMatch(/quota/);
      expect(problem.detail).toContain('6000 bytes');
      expect(problem.detail).toContain(`${QUOTA} bytes`);
      expect(problem.detail).toContain('4001 bytes');
      // Refused means nothing was made: usage as before, no new video.
      expect(await me(jane)).toEqual({ bytesUsed: 6000, bytesLimit: QUOTA });
      const listed = (await (await runtime.api('/v1/videos?owner=me', { token: jane })).json()) as {
        items: unknown[];
      };
      expect(listed.items).toHaveLength(1);

      // Exactly what is left still fits; deleting a video gives its bytes back.
      expect((await upload(jane, 4000)).status).toBe(201);
      expect((await runtime.api(`/v1/videos/${videoId}`, { method: 'DELETE', token: jane })).status).toBe(
        204,
      );
      expect(await me(jane)).toEqual({ bytesUsed: 4000, bytesLimit: QUOTA });
    });

    it('lets only what fits through when creations race', async () => {
      for (const user of ['kate', 'liam', 'mona']) {
        const token = await runtime.token(user, ['creator']);
        // Three at once, one fits: never two (and the bucket of 3 lets all three try).
        const statuses = (await Promise.all([0, 1, 2].map(() => upload(token, 6000)))).map((r) => r.status);
        expect(statuses.sort()).toEqual([201, 413, 413]);
        expect(await me(token)).toEqual({ bytesUsed: 6000, bytesLimit: QUOTA });
      }
    });

    it('counts an open upload only while it can still complete', async () => {
      const noah = await runtime.token('noah', ['creator']);
      const { videoId } = (await (await upload(noah, 9000)).json()) as { videoId: string };
      expect((await me(noah)).bytesUsed).toBe(9000);
      // Its session (24 h) has long expired: the declared bytes no longer count.
      await (await sharedKysely())
        .updateTable('videos')
        .set({ created_at: new Date(Date.now() - 25 * 3600_000) })
        .where('id', '=', videoId)
        .execute();
      expect((await me(noah)).bytesUsed).toBe(0);
      expect((await upload(noah, 9000)).status).toBe(201);
    });

    it('leaves admins unlimited by default', async () => {
      expect(await me(admin)).toMatchObject({ bytesLimit: null });
      expect((await upload(admin, QUOTA * 2)).status).toBe(201);
    });
  });

  it('never grants more tokens than the bucket holds under concurrency', async () => {
    const erin = await runtime.token('erin', ['creator']);
    const results = await Promise.all(
      Array.from({ length: 12 }, () =>
        runtime.api('/v1/uploads', {
          method: 'POST',
          token: erin,
          json: { filename: 'a.mp4', contentType: 'video/mp4', size: 1000, title: 'race' },
        }),
      ),
    );
    const created = results.filter((r) => r.status === 201).length;
    expect(created).toBeLessThanOrEqual(3);
    expect(created).toBeGreaterThanOrEqual(1);
    expect(results.every((r) => r.status === 201 || r.status === 429)).toBe(true);
  });

  it('audits state changes and denied attempts with actor, action, target, request id, source ip and time', async () => {
    const videoId = await seedVideo({ ownerId: 'alice', visibility: 'public' });
    const bob = await runtime.token('bob', ['creator']);
    const patch = await runtime.api(`/v1/videos/${videoId}`, {
      method: 'PATCH',
      token: alice,
      json: { title: 'audited' },
      headers: { 'X-Request-Id': 'req-audit-1' },
    });
    expect(patch.status).toBe(200);
    const denied = await runtime.api(`/v1/videos/${videoId}`, {
      method: 'DELETE',
      token: bob,
      headers: { 'X-Request-Id': 'req-audit-2' },
    });
    expect(denied.status).toBe(403);
    const anonymous = await runtime.api(`/v1/videos/${videoId}`, {
      method: 'DELETE',
      headers: { 'X-Request-Id': 'req-audit-3' },
    });
    expect(anonymous.status).toBe(401);
    const deleted = await runtime.api(`/v1/videos/${videoId}`, { method: 'DELETE', token: alice });
    expect(deleted.status).toBe(204);

    const page = await audit('?limit=100');
    const byRequest = (id: string) => page.items.find((item) => item.requestId === id);
    expect(byRequest('req-audit-1')).toMatchObject({
      action: 'video.update',
      outcome: 'success',
      status: 200,
      actor: { id: 'alice', via: 'token', apiKeyId: null },
      target: { type: 'video', id: videoId },
    });
    expect(byRequest('req-audit-1')!.sourceIp).toMatch(/127\.0\.0\.1/);
    expect(Date.now() - Date.parse(byRequest('req-audit-1')!.occurredAt)).toBeLessThan(60_000);
    expect(byRequest('req-audit-2')).toMatchObject({
      action: 'video.delete',
      outcome: 'denied',
      status: 403,
      actor: { id: 'bob' },
      target: { type: 'video', id: videoId },
    });
    expect(byRequest('req-audit-3')).toMatchObject({
      outcome: 'denied',
      status: 401,
      actor: { id: null, via: 'anonymous' },
    });
    const actions = new Set(page.items.map((item) => `${item.action}:${item.outcome}`));
    for (const expected of [
      'video.delete:success',
      'upload.create:success',
      'api-key.create:success',
      'api-key.revoke:success',
    ])
      expect(actions).toContain(expected);
    // API-key calls are attributed to the key.
    const keyed = page.items.find((item) => item.actor.via === 'api-key');
    expect(keyed?.actor.apiKeyId).toBeTruthy();
  });

  it('records uploads completed and aborted', async () => {
    const frank = await runtime.token('frank', ['creator']);
    const created = (await (
      await runtime.api('/v1/uploads', {
        method: 'POST',
        token: frank,
        json: { filename: 'a.mp4', contentType: 'video/mp4', size: 1000, title: 'abort me' },
      })
    ).json()) as { uploadId: string };
    expect(
      (await runtime.api(`/v1/uploads/${created.uploadId}`, { method: 'DELETE', token: frank })).status,
    ).toBe(204);
    const page = await audit('?action=upload.abort');
    expect(page.items[0]).toMatchObject({
      outcome: 'success',
      target: { type: 'upload', id: created.uploadId },
    });
  });

  it('serves the audit log to admins only, in keyset pages', async () => {
    expect((await runtime.api('/v1/audit', { token: alice })).status).toBe(403);
    expect((await runtime.api('/v1/audit', { token: viewer })).status).toBe(403);
    expect((await runtime.api('/v1/audit')).status).toBe(401);
    expect((await runtime.api('/v1/audit?cursor=bogus', { token: admin })).status).toBe(400);

    const seen = new Set<string>();
    let cursor: string | null = null;
    let previous = Number.POSITIVE_INFINITY;
    let pages = 0;
    do {
      const page = await audit(`?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      for (const item of page.items) {
        expect(seen.has(item.id)).toBe(false);
        expect(Number(item.id)).toBeLessThan(previous);
        previous = Number(item.id);
        seen.add(item.id);
      }
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 200);
    expect(pages).toBeGreaterThan(2);
    // A hostile id (a NUL, which Postgres text refuses) is still recorded, made storable.
    const hostile = 'a\u0000b';
    expect(
      (await runtime.api(`/v1/api-keys/${encodeURIComponent(hostile)}`, { method: 'DELETE' })).status,
    ).toBe(401);
    const revokes = await audit('?action=api-key.revoke&outcome=denied&limit=100');
    expect(revokes.items.map((item) => item.target?.id)).toContain('a\uFFFDb');
    // The denied attempts above are themselves in the log.
    const denied = await audit('?outcome=denied&limit=100');
    expect(denied.items.some((item) => item.action === 'GET /v1/audit' && item.actor.id === 'alice')).toBe(
      true,
    );
  });
});
