import type { CognitoWebAuth, LocalWebAuth, WebConfig } from '../../lambdas/shared/web-config.ts';
import { ApiError, problemSentence } from './api.ts';

/**
 * Signing in. Locally: the dev token issuer (`POST /local/token` with a username and a role). In the
 * cloud: Cognito's hosted UI with the authorization code flow and PKCE (a public client, no secret), and
 * silent refresh with the refresh token shortly before the access token expires. The session lives in
 * sessionStorage: it survives a reload (so an upload can resume) but not the tab.
 */
export type Role = 'creator' | 'viewer' | 'admin';

interface Session {
  accessToken: string;
  /** Epoch ms. */
  expiresAt: number;
  refreshToken?: string;
  username: string;
  /** Local mode: the role asked for, so the token can be minted again. */
  role?: Role;
}

const SESSION_KEY = 'videocloud.session';
const PKCE_KEY = 'videocloud.pkce';
const REFRESH_MARGIN_MS = 60_000;

export interface Auth {
  readonly mode: 'local' | 'cognito';
  username(): string | undefined;
  /** The access token, refreshed first when it is about to expire. */
  token(): Promise<string | undefined>;
  refresh(): Promise<boolean>;
  signInLocal(username: string, role: Role): Promise<void>;
  signInHosted(): Promise<void>;
  /** Finishes a hosted-UI redirect when the URL carries `code` and `state`; true when it did. */
  completeRedirect(): Promise<boolean>;
  signOut(): void;
  onChange(listener: () => void): void;
}

export function createAuth(config: WebConfig): Auth {
  let session = load();
  let refreshing: Promise<boolean> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const listeners: Array<() => void> = [];

  const changed = () => {
    schedule();
    for (const listener of listeners) listener();
  };
  const save = (next: Session | undefined) => {
    session = next;
    if (next) sessionStorage.setItem(SESSION_KEY, JSON.stringify(next));
    else sessionStorage.removeItem(SESSION_KEY);
    changed();
  };
  /** Silent refresh: renew a minute before expiry, so requests never wait on it. */
  const schedule = () => {
    clearTimeout(timer);
    if (!session) return;
    const delay = Math.max(0, session.expiresAt - Date.now() - REFRESH_MARGIN_MS);
    timer = setTimeout(() => void refresh(), Math.min(delay, 2 ** 31 - 1));
  };

  async function refresh(): Promise<boolean> {
    refreshing ??= (async () => {
      const current = session;
      if (!current) return false;
      try {
        if (config.auth.mode === 'local' && current.role) {
          save(await mintLocal(config.auth, current.username, current.role));
          return true;
        }
        if (config.auth.mode === 'cognito' && current.refreshToken) {
          const tokens = await tokenRequest(config.auth, {
            grant_type: 'refresh_token',
            client_id: config.auth.clientId,
            refresh_token: current.refreshToken,
          });
          save(cognitoSession(tokens, current.refreshToken));
          return true;
        }
      } catch {
        // fall through: the session is over
      }
      save(undefined);
      return false;
    })().finally(() => {
      refreshing = undefined;
    });
    return refreshing;
  }

  schedule();
  return {
    mode: config.auth.mode,
    username: () => session?.username,
    async token() {
      if (!session) return undefined;
      if (session.expiresAt - Date.now() < REFRESH_MARGIN_MS / 2) await refresh();
      return session?.accessToken;
    },
    refresh,
    async signInLocal(username, role) {
      if (config.auth.mode !== 'local')
        throw new Error('Local sign-in is only available on the local runtime.');
      save(await mintLocal(config.auth, username, role));
    },
    async signInHosted() {
      if (config.auth.mode !== 'cognito') throw new Error('Hosted sign-in is not configured.');
      const verifier = randomString(48);
      const state = randomString(24);
      sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state, returnTo: location.pathname }));
      const url = new URL('/oauth2/authorize', hostedDomain(config.auth));
      url.search = new URLSearchParams({
        response_type: 'code',
        client_id: config.auth.clientId,
        redirect_uri: redirectUri(config.auth),
        scope: config.auth.scopes.join(' '),
        state,
        code_challenge: await challenge(verifier),
        code_challenge_method: 'S256',
      }).toString();
      location.assign(url.toString());
    },
    async completeRedirect() {
      if (config.auth.mode !== 'cognito') return false;
      const params = new URLSearchParams(location.search);
      const code = params.get('code');
      const state = params.get('state');
      const error = params.get('error_description') ?? params.get('error');
      if (!code && !error) return false;
      const pending = JSON.parse(sessionStorage.getItem(PKCE_KEY) ?? 'null') as {
        verifier: string;
        state: string;
        returnTo: string;
      } | null;
      sessionStorage.removeItem(PKCE_KEY);
      history.replaceState(null, '', pending?.returnTo ?? '/');
      if (error) throw new Error(`Sign-in failed: ${error}`);
      if (!pending || pending.state !== state)
        throw new Error('Sign-in failed: the response did not match the request. Please try again.');
      const tokens = await tokenRequest(config.auth, {
        grant_type: 'authorization_code',
        client_id: config.auth.clientId,
        code: code!,
        redirect_uri: redirectUri(config.auth),
        code_verifier: pending.verifier,
      });
      save(cognitoSession(tokens));
      return true;
    },
    signOut() {
      save(undefined);
      if (config.auth.mode === 'cognito') {
        const url = new URL('/logout', hostedDomain(config.auth));
        url.search = new URLSearchParams({
          client_id: config.auth.clientId,
          logout_uri: config.auth.logoutUri ?? `${location.origin}/`,
        }).toString();
        location.assign(url.toString());
      }
    },
    onChange(listener) {
      listeners.push(listener);
    },
  };
}

function load(): Session | undefined {
  try {
    const stored = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? 'null') as Session | null;
    return stored && stored.expiresAt > Date.now() ? stored : undefined;
  } catch {
    return undefined;
  }
}

async function mintLocal(auth: LocalWebAuth, username: string, role: Role): Promise<Session> {
  let response: Response;
  try {
    response = await fetch(auth.tokenUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ sub: username, groups: [role] }),
    });
  } catch {
    throw new ApiError(problemSentence(undefined, 0), 0);
  }
  const body = (await response.json().catch(() => undefined)) as
    | { access_token: string; expires_in: number; detail?: string; title?: string }
    | undefined;
  if (!response.ok || !body?.access_token) {
    throw new ApiError(problemSentence(body, response.status), response.status);
  }
  return { accessToken: body.access_token, expiresAt: Date.now() + body.expires_in * 1000, username, role };
}

interface TokenResponse {
  access_token: string;
  expires_in: number;
  refresh_token?: string;
}

async function tokenRequest(auth: CognitoWebAuth, form: Record<string, string>): Promise<TokenResponse> {
  const response = await fetch(new URL('/oauth2/token', hostedDomain(auth)), {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  const body = (await response.json().catch(() => ({}))) as Partial<TokenResponse> & {
    error?: string;
    error_description?: string;
  };
  if (!response.ok || !body.access_token)
    throw new Error(`Sign-in failed: ${body.error_description ?? body.error ?? `HTTP ${response.status}`}`);
  return body as TokenResponse;
}

function cognitoSession(tokens: TokenResponse, previousRefreshToken?: string): Session {
  const claims = decodeJwt(tokens.access_token);
  return {
    accessToken: tokens.access_token,
    expiresAt: Date.now() + tokens.expires_in * 1000,
    refreshToken: tokens.refresh_token ?? previousRefreshToken,
    username: String(claims.username ?? claims.sub ?? 'signed in'),
  };
}

function decodeJwt(token: string): Record<string, unknown> {
  try {
    const payload = token.split('.')[1] ?? '';
    const json = atob(payload.replaceAll('-', '+').replaceAll('_', '/'));
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0)))) as Record<
      string,
      unknown
    >;
  } catch {
    return {};
  }
}

const hostedDomain = (auth: CognitoWebAuth) =>
  /^https?:\/\//.test(auth.domain) ? auth.domain : `https://${auth.domain}`;
const redirectUri = (auth: CognitoWebAuth) => auth.redirectUri ?? `${location.origin}/`;

function base64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

function randomString(bytes: number): string {
  return base64Url(crypto.getRandomValues(new Uint8Array(bytes)));
}

async function challenge(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64Url(new Uint8Array(digest));
}
