import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomUUID,
  sign,
} from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';
import { roles } from '#core/principal.ts';

/**
 * The local stand-in for Cognito's token endpoint: RS256 access tokens whose claims mirror Cognito's
 * (`iss` of the user pool, `token_use: access`, `client_id`, `cognito:groups`, resource-server-prefixed
 * `scope`, `username`). The API verifies them with the same aws-jwt-verify Cognito verifier it uses in
 * the cloud, given this issuer's JWKS inline. The key pair lives under the data dir, so tokens survive a
 * restart. Never deployed.
 */
export const TokenRequest = z
  .object({
    sub: z.string().regex(/^[A-Za-z0-9._@+-]{1,128}$/, 'letters, digits and ._@+- only, at most 128'),
    username: z.string().min(1).max(128).optional(),
    groups: z.array(z.enum(roles)).max(3).default([]),
    scope: z
      .string()
      .regex(/^(videos:read|videos:write|uploads:write)( (videos:read|videos:write|uploads:write))*$/)
      .optional(),
    expiresIn: z.int().min(1).max(86_400).default(3600),
  })
  .strict();
export type TokenRequest = z.input<typeof TokenRequest>;

export interface TokenIssuerOptions {
  keyDir: string;
  userPoolId: string;
  clientId: string;
  region: string;
  scopePrefix: string;
}

export class LocalTokenIssuer {
  readonly issuer: string;
  private readonly privateKey: KeyObject;
  private readonly kid: string;

  constructor(private readonly options: TokenIssuerOptions) {
    this.issuer = `https://cognito-idp.${options.region}.amazonaws.com/${options.userPoolId}`;
    const keyFile = join(options.keyDir, 'local-issuer-key.json');
    if (!existsSync(keyFile)) {
      mkdirSync(options.keyDir, { recursive: true });
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      writeFileSync(
        keyFile,
        JSON.stringify({ kid: randomUUID(), jwk: privateKey.export({ format: 'jwk' }) }),
        {
          mode: 0o600,
        },
      );
    }
    const stored = JSON.parse(readFileSync(keyFile, 'utf8')) as { kid: string; jwk: Record<string, string> };
    this.kid = stored.kid;
    this.privateKey = createPrivateKey({ key: stored.jwk, format: 'jwk' });
  }

  jwks(): { keys: Array<Record<string, string>> } {
    const publicJwk = createPublicKey(this.privateKey).export({ format: 'jwk' }) as Record<string, string>;
    return { keys: [{ ...publicJwk, kid: this.kid, alg: 'RS256', use: 'sig' }] };
  }

  mint(input: TokenRequest): { access_token: string; token_type: 'Bearer'; expires_in: number } {
    const request = TokenRequest.parse(input);
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      sub: request.sub,
      'cognito:groups': request.groups,
      iss: this.issuer,
      client_id: this.options.clientId,
      origin_jti: randomUUID(),
      token_use: 'access',
      scope: (request.scope ?? 'videos:read videos:write uploads:write')
        .split(' ')
        .map((scope) => `${this.options.scopePrefix}${scope}`)
        .join(' '),
      auth_time: now,
      exp: now + request.expiresIn,
      iat: now,
      jti: randomUUID(),
      username: request.username ?? request.sub,
    };
    return { access_token: this.sign(claims), token_type: 'Bearer', expires_in: request.expiresIn };
  }

  /** Signs arbitrary claims with the issuer's key: tests use it to forge expired or mis-addressed tokens. */
  sign(claims: Record<string, unknown>, header: Record<string, unknown> = {}): string {
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const signingInput = `${encode({ alg: 'RS256', typ: 'JWT', kid: this.kid, ...header })}.${encode(claims)}`;
    const signature = sign('RSA-SHA256', Buffer.from(signingInput), this.privateKey).toString('base64url');
    return `${signingInput}.${signature}`;
  }
}

/** An RSA key pair kept under the data dir (created on first use), e.g. the local CDN's signing key. */
export function localKeyPair(keyDir: string, file: string): { privateKeyPem: string; publicKeyPem: string } {
  const path = join(keyDir, file);
  if (!existsSync(path)) {
    mkdirSync(keyDir, { recursive: true });
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(path, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  }
  const privateKeyPem = readFileSync(path, 'utf8');
  return {
    privateKeyPem,
    publicKeyPem: createPublicKey(privateKeyPem).export({ format: 'pem', type: 'spki' }).toString(),
  };
}
