/**
 * The browser client's settings, served as `/config.json` next to the app: by the local runtime
 * (local/web.ts, `auth.mode: "local"`) and by the CDK web hosting construct (`auth.mode: "cognito"`).
 * The client reads it once at startup, so one build of web/dist runs anywhere. Plain types and a
 * dependency-free check, so the browser bundle can use them without pulling in zod.
 */
export interface LocalWebAuth {
  mode: 'local';
  /** The local token issuer, `POST {sub, groups}` -> `{access_token, expires_in}`; usually `/local/token`. */
  tokenUrl: string;
}

export interface CognitoWebAuth {
  mode: 'cognito';
  /** The user pool's hosted UI domain, e.g. `https://videocloud-dev.auth.eu-west-1.amazoncognito.com`. */
  domain: string;
  /** The public (secretless) app client the web client signs in with, authorization code + PKCE. */
  clientId: string;
  /** OAuth scopes to ask for, e.g. `["openid", "videocloud/videos:read", ...]`. */
  scopes: string[];
  /** Where the hosted UI sends the browser back; defaults to the app's origin + `/`. */
  redirectUri?: string;
  /** Where the hosted UI's logout sends the browser; defaults to the app's origin + `/`. */
  logoutUri?: string;
}

export interface WebConfig {
  /** Origin (and optional path prefix) the `/v1` API lives under, without a trailing slash. */
  apiBaseUrl: string;
  auth: LocalWebAuth | CognitoWebAuth;
}

/** Returns the config when `value` is a well-formed WebConfig, else throws naming what is wrong. */
export function parseWebConfig(value: unknown): WebConfig {
  const fail = (what: string): never => {
    throw new Error(`config.json is invalid: ${what}`);
  };
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
  if (!isObject(value)) return fail('not an object');
  if (typeof value.apiBaseUrl !== 'string') return fail('apiBaseUrl must be a string');
  const auth = value.auth;
  if (!isObject(auth)) return fail('auth must be an object');
  if (auth.mode === 'local') {
    if (typeof auth.tokenUrl !== 'string' || auth.tokenUrl === '') return fail('auth.tokenUrl is required');
  } else if (auth.mode === 'cognito') {
    for (const field of ['domain', 'clientId'] as const)
      if (typeof auth[field] !== 'string' || auth[field] === '') fail(`auth.${field} is required`);
    if (!Array.isArray(auth.scopes) || !auth.scopes.every((s) => typeof s === 'string'))
      fail('auth.scopes must be a list of strings');
  } else {
    return fail('auth.mode must be "local" or "cognito"');
  }
  return { ...value, apiBaseUrl: value.apiBaseUrl.replace(/\/+$/, '') } as WebConfig;
}

/**
 * The browser client's Content-Security-Policy, the same rules wherever it is served (local/web.ts,
 * lib/constructs/web-hosting.ts); only the outside origins differ. `connect` is what the page fetches
 * (API, token issuer, presigned part PUTs, playlists and segments); `media` where video, posters and
 * thumbnails come from.
 */
export function webContentSecurityPolicy(origins: { connect: string[]; media: string[] }): string {
  const list = (values: string[]) => values.join(' ');
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' data: blob: ${list(origins.media)}`,
    `media-src 'self' blob: ${list(origins.media)}`,
    `connect-src 'self' ${list(origins.connect)}`,
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
