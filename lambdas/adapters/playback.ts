import { listedDownloads } from '#core/derivatives.ts';
import { PLAYBACK_KID, type PlaybackKey, playbackToken, tokenPath } from '#core/playback-token.ts';
import type { Playback, VideoRecord } from '#core/video.ts';
import { config } from '#shared/config.ts';
import { objectKeys } from '#shared/resources.ts';
import * as z from '#shared/zod.ts';
import { awsJsonCall } from './aws-json.ts';

/**
 * Playback URLs for a ready video: `<media base>/t/<token>/videos/<id>/master.m3u8` and the poster,
 * storyboard, caption tracks and MP4 downloads under the same token (core/playback-token.ts; the CDN's playback gate checks it). Public and unlisted videos get
 * a token without expiry, made from the video's playback epoch, so their URL is the same on every call
 * and keeps working while the video stays shared; making the video private or deleting it moves the
 * epoch and revokes them. Private videos get a token that expires after PRIVATE_PLAYBACK_SECONDS.
 */
export async function resolvePlayback(
  video: Pick<
    VideoRecord,
    | 'id'
    | 'status'
    | 'visibility'
    | 'playbackEpoch'
    | 'masterPlaylistKey'
    | 'posterKey'
    | 'captions'
    | 'downloads'
    | 'renditions'
    | 'derivatives'
  >,
): Promise<Playback | null> {
  const { mediaBaseUrl, playback } = config();
  if (!mediaBaseUrl || video.status !== 'ready' || !video.masterPlaylistKey || !video.posterKey) return null;
  const base = mediaBaseUrl.endsWith('/') ? mediaBaseUrl : `${mediaBaseUrl}/`;
  const expiresAt =
    video.visibility === 'private' ? Math.floor(Date.now() / 1000) + playback.privateUrlSeconds : 0;
  const token = playbackToken(await signingKey(), {
    videoId: video.id,
    epoch: video.playbackEpoch,
    expiresAt,
  });
  const mediaPrefix = objectKeys.mediaPrefix(video.id);
  const expiry = expiresAt ? { expiresAt: new Date(expiresAt * 1000).toISOString() } : {};
  const storyboardKey = video.derivatives?.storyboardKey;
  return {
    hls: `${base}${tokenPath(token, video.masterPlaylistKey)}`,
    poster: `${base}${tokenPath(token, video.posterKey)}`,
    captions: video.captions.map((caption) => ({
      captionId: caption.id,
      language: caption.language,
      label: caption.label,
      url: `${base}${tokenPath(token, `${mediaPrefix}${objectKeys.captionFile(caption.id)}`)}`,
    })),
    storyboard: storyboardKey ? `${base}${tokenPath(token, storyboardKey)}` : null,
    ...expiry,
    // The same token: downloads obey exactly the access rules of playback.
    downloads: listedDownloads(video).map((file) => ({
      name: file.name,
      width: file.width,
      height: file.height,
      size: file.size,
      url: `${base}${tokenPath(token, file.key)}`,
      ...expiry,
    })),
  };
}

const KeySchema = z.strictObject({
  kid: z.string().check(z.regex(PLAYBACK_KID)),
  secret: z.string().check(z.minLength(32)),
});

let key: Promise<PlaybackKey> | undefined;

/**
 * The signing key: inline (local runtime) or from Secrets Manager, fetched once per container (one
 * signed GetSecretValue, aws-json.ts: the read routes need no Secrets Manager client).
 */
function signingKey(): Promise<PlaybackKey> {
  key ??= (async () => {
    const { playback } = config();
    let value = playback.inlineKey;
    if (!value) {
      if (!playback.keySecretArn) throw new Error('no playback signing key configured');
      const secret = await awsJsonCall<{ SecretString?: string }>('secretsmanager', 'GetSecretValue', {
        SecretId: playback.keySecretArn,
      });
      value = secret.SecretString;
    }
    const parsed = KeySchema.safeParse(JSON.parse(value ?? 'null'));
    if (!parsed.success) throw new Error('the playback signing key is not {"kid","secret"}');
    return parsed.data;
  })().catch((error: unknown) => {
    key = undefined;
    throw error;
  });
  return key;
}
