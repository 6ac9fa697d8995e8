import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { sharedKysely } from '#adapters/db/connect.ts';
import { LOCAL_RESOURCES } from '#local/runtime.ts';
import { RUNTIME_START_MS, startTestRuntime, type TestRuntime } from '#test/helpers/runtime.ts';

describe('bearer tokens', () => {
  let runtime: TestRuntime;
  let claims: () => Record<string, unknown>;

  beforeAll(async () => {
    runtime = await startTestRuntime();
    claims = () => {
      const now = Math.floor(Date.now() / 1000);
      return {
        sub: 'carol',
        username: 'carol',
        'cognito:groups': ['creator'],
        iss: runtime.issuer.issuer,
        client_id: LOCAL_RESOURCES.clientId,
        token_use: 'access',
        scope: 'videocloud/videos:read',
        iat: now,
        exp: now + 600,
      };
    };
  }, RUNTIME_START_MS);
  afterAll(async () => {
    await runtime.close();
  }, 60_000);

  const me = (authorization?: string) =>
    runtime.api('/v1/me', authorization ? { headers: { Authorization: authorization } } : {});

  it('serves /v1/me for a valid access token and mirrors the user into Postgres', async () => {
    const response = await me(`Bearer ${await runtime.token('dora', ['creator'])}`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      id: 'dora',
      username: 'dora',
      roles: ['creator'],
      scopes: ['videos:read', 'videos:write', 'uploads:write'],
      quota: { bytesUsed: 0, bytesLimit: 100 * 1024 ** 3 },
    });
    const row = await (await sharedKysely())
      .selectFrom('users')
      .selectAll()
      .where('id', '=', 'dora')
      .executeTakeFirst();
    expect(row?.username).toBe('dora');
  });

  it('treats a user with no group as a viewer with read scope only', async () => {
    const response = await me(`Bearer ${await runtime.token('erin', [])}`);
    expect(await response.json()).toMatchObject({ roles: ['viewer'], scopes: ['videos:read'] });
  });

  const forged = (name: string, make: () => string) => [name, make] as const;
  const unsigned = (header: object, payload: object) =>
    `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;

  const cases = [
    forged('expired', () => runtime.issuer.sign({ ...claims(), exp: Math.floor(Date.now() / 1000) - 60 })),
    forged('not yet valid', () =>
      runtime.issuer.sign({ ...claims(), nbf: Math.floor(Date.now() / 1000) + 3600 }),
    ),
    forged('wrong issuer', () =>
      runtime.issuer.sign({
        ...claims(),
        iss: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other',
      }),
    ),
    forged('wrong client', () => runtime.issuer.sign({ ...claims(), client_id: 'someone-elses-app' })),
    forged('an id token where an access token is due', () =>
      runtime.issuer.sign({ ...claims(), token_use: 'id', aud: LOCAL_RESOURCES.clientId }),
    ),
    forged('alg none', () => `${unsigned({ alg: 'none', typ: 'JWT' }, claims())}.`),
    forged('HS256 signed with the public key', () => {
      const input = unsigned({ alg: 'HS256', typ: 'JWT', kid: runtime.issuer.jwks().keys[0]!.kid }, claims());
      const secret = JSON.stringify(runtime.issuer.jwks().keys[0]);
      return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
    }),
    forged('tampered payload', () => {
      const [header, , signature] = runtime.issuer.sign(claims()).split('.');
      const payload = Buffer.from(JSON.stringify({ ...claims(), 'cognito:groups': ['admin'] })).toString(
        'base64url',
      );
      return `${header}.${payload}.${signature}`;
    }),
    forged('signed by another key', () => {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const input = unsigned({ alg: 'RS256', typ: 'JWT', kid: runtime.issuer.jwks().keys[0]!.kid }, claims());
      return `${input}.${sign('RSA-SHA256', Buffer.from(input), privateKey).toString('base64url')}`;
    }),
    forged('an unknown key id', () => runtime.issuer.sign(claims(), { kid: 'not-a-known-kid' })),
    forged('garbage', () => 'not.a.jwt'),
    forged('a token without exp', () => {
      const { exp: _exp, ...rest } = claims();
      return runtime.issuer.sign(rest);
    }),
    forged('a token issued an hour in the future', () =>
      runtime.issuer.sign({ ...claims(), iat: Math.floor(Date.now() / 1000) + 3600 }),
    ),
    forged('a token with a non-numeric iat', () => runtime.issuer.sign({ ...claims(), iat: 'yesterday' })),
    forged('a token valid for a year', () =>
      runtime.issuer.sign({ ...claims(), exp: Math.floor(Date.now() / 1000) + 365 * 24 * 3600 }),
    ),
  ];

  it.each(cases)('refuses %s with 401 and a Bearer challenge', async (_name, make) => {
    const response = await me(`Bearer ${make()}`);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(
      /^Bearer realm="videocloud", error="invalid_token"/,
    );
    expect(response.headers.get('content-type')).toBe('application/problem+json');
  });

  it('accepts a token whose iat is a little ahead of our clock (within the 5-minute skew)', async () => {
    const token = runtime.issuer.sign({ ...claims(), iat: Math.floor(Date.now() / 1000) + 60 });
    expect((await me(`Bearer ${token}`)).status).toBe(200);
  });

  it('refuses a missing token on a route that needs one, with a bare challenge', async () => {
    const response = await me();
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="videocloud"');
  });

  it('refuses a malformed Authorization header', async () => {
    const response = await me('Basic YWxpY2U6c2VjcmV0');
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_request"');
  });

  it('refuses a bad token even on routes that also serve anonymous callers', async () => {
    const response = await runtime.api('/v1/videos', { headers: { Authorization: 'Bearer not.a.jwt' } });
    expect(response.status).toBe(401);
  });

  it('creates no user row for a refused token', async () => {
    await me(`Bearer ${runtime.issuer.sign({ ...claims(), sub: 'mallory', exp: 1 })}`);
    const count = await sql<{ n: number }>`select count(*)::int as n from users where id = 'mallory'`.execute(
      await sharedKysely(),
    );
    expect(count.rows[0]?.n).toBe(0);
  });
});
