import { createHmac } from 'node:crypto';

/**
 * Playback tokens: the API's half of the playback gate (lambdas/edge/playback-gate.js checks them at the
 * CDN). A token travels in the URL path, `/t/<token>/videos/<id>/master.m3u8`, so every child playlist,
 * segment and track a player resolves relatively carries it too: no loader, no cookie, no query string.
 *
 * `<kid>.<epoch>.<exp>.<sig>`: the signing key's id, the video's playback epoch (a token older than the
 * video's revocation epoch is refused), the expiry in epoch seconds (0: none, for public and unlisted
 * videos, whose URLs must not stop working while the video stays shared), and the base64url HMAC-SHA256
 * of `vc1:<kid>:<video id>:<epoch>:<exp>` under the key. The token names no path: it covers the video's
 * whole folder, and the gate reads the video id from the normalised path it is asked for.
 */
export interface PlaybackKey {
  /** Lower-case letters and digits, 1-16: the KeyValueStore holds the secret as `key:<kid>`. */
  kid: string;
  secret: string;
}

export interface TokenClaims {
  videoId: string;
  /** The video's playback epoch when the token was made. */
  epoch: number;
  /** Epoch seconds after which the token is refused; 0 for never. */
  expiresAt: number;
}

export const PLAYBACK_KID = /^[a-z0-9]{1,16}$/;

export function playbackToken(key: PlaybackKey, claims: TokenClaims): string {
  if (!PLAYBACK_KID.test(key.kid)) throw new Error(`playback key id "${key.kid}" is not [a-z0-9]{1,16}`);
  const epoch = Math.floor(claims.epoch);
  const expiresAt = Math.floor(claims.expiresAt);
  const signature = createHmac('sha256', key.secret)
    .update(`vc1:${key.kid}:${claims.videoId}:${epoch}:${expiresAt}`)
    .digest('base64url');
  return `${key.kid}.${epoch}.${expiresAt}.${signature}`;
}

/** The path of `objectKey` (e.g. `videos/<id>/master.m3u8`) under a token, relative to the CDN's base URL. */
export function tokenPath(token: string, objectKey: string): string {
  return `t/${token}/${objectKey}`;
}
