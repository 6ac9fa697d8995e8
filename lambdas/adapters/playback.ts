import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { getSignedUrl } from '@aws-sdk/cloudfront-signer';
import type { Playback, VideoRecord } from '#core/video.ts';
import { config } from '#shared/config.ts';
import { objectKeys } from '#shared/resources.ts';

/**
 * Playback URLs for a ready video. The media distribution serves nothing unsigned (a trusted key group
 * on every behavior), so an unlisted or private video cannot be found by guessing paths. Each URL
 * carries a CloudFront custom policy whose resource is the video's whole folder (`videos/{id}/*`), so
 * the same signature works for the master playlist, every variant playlist and segment, and the
 * poster: players append the master URL's query to each request (the web client's HLS loader does).
 * Private videos get short-lived URLs; public and unlisted ones longer-lived.
 */
export async function resolvePlayback(video: VideoRecord): Promise<Playback | null> {
  const { mediaBaseUrl, cdn } = config();
  if (!mediaBaseUrl || video.status !== 'ready' || !video.masterPlaylistKey || !video.posterKey) return null;
  const base = mediaBaseUrl.endsWith('/') ? mediaBaseUrl : `${mediaBaseUrl}/`;
  const ttlSeconds = video.visibility === 'private' ? cdn.privateUrlSeconds : cdn.publicUrlSeconds;
  const expiresAt = new Date(Math.floor(Date.now() / 1000 + ttlSeconds) * 1000);
  const policy = JSON.stringify({
    Statement: [
      {
        Resource: `${base}${objectKeys.mediaPrefix(video.id)}*`,
        Condition: { DateLessThan: { 'AWS:EpochTime': Math.floor(expiresAt.getTime() / 1000) } },
      },
    ],
  });
  const credentials = { keyPairId: cdn.keyPairId, privateKey: await signingKey(), policy };
  return {
    hls: getSignedUrl({ ...credentials, url: `${base}${video.masterPlaylistKey}` }),
    poster: getSignedUrl({ ...credentials, url: `${base}${video.posterKey}` }),
    expiresAt: expiresAt.toISOString(),
  };
}

let key: Promise<string> | undefined;

/** The CloudFront signing key: inline (local runtime) or from Secrets Manager, fetched once per container. */
function signingKey(): Promise<string> {
  key ??= (async () => {
    const { cdn, region } = config();
    if (cdn.privateKeyPem) return cdn.privateKeyPem;
    if (!cdn.privateKeySecretArn) throw new Error('no CloudFront signing key configured');
    const secret = await new SecretsManagerClient({ region }).send(
      new GetSecretValueCommand({ SecretId: cdn.privateKeySecretArn }),
    );
    if (!secret.SecretString) throw new Error('the CloudFront signing key secret is empty');
    return secret.SecretString;
  })().catch((error: unknown) => {
    key = undefined;
    throw error;
  });
  return key;
}
