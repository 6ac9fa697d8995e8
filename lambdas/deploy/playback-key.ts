import { randomBytes } from 'node:crypto';
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { putSigningKey } from '#adapters/edge-store.ts';
import type { PlaybackKey } from '#core/playback-token.ts';

/**
 * Deploy-time custom resource (CDK Provider framework) behind lib/constructs/media-delivery.ts: makes the
 * key playback tokens are signed with. On Create it generates 256 random bits under a new key id, stores
 * `{"kid","secret"}` as the secret's value (the API reads it) and writes the secret into the CDN's
 * KeyValueStore as `key:<kid>` (the playback gate checks against it). On Update with the same secret it
 * only makes sure the store still holds the key: a new key would invalidate every playback URL handed
 * out, public ones included. Delete does nothing: the secret and the store are resources of their own.
 * The key id is also the physical id, so nothing secret goes back to CloudFormation.
 */
export interface PlaybackKeyProperties {
  SecretArn: string;
  KvsArn: string;
}

const secrets = new SecretsManagerClient({});

export async function handler(
  event: CloudFormationCustomResourceEvent,
): Promise<{ PhysicalResourceId: string }> {
  const { SecretArn, KvsArn } = event.ResourceProperties as unknown as PlaybackKeyProperties;
  if (!SecretArn || !KvsArn) throw new Error('SecretArn and KvsArn are required');
  if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId };
  if (event.RequestType === 'Update') {
    const previous = event.OldResourceProperties as unknown as PlaybackKeyProperties;
    if (previous.SecretArn === SecretArn) {
      const key = await storedKey(SecretArn);
      if (key) {
        await putSigningKey(key.kid, key.secret, KvsArn);
        return { PhysicalResourceId: key.kid };
      }
    }
  }
  const key: PlaybackKey = {
    kid: `k${Date.now().toString(36)}`,
    secret: randomBytes(32).toString('base64url'),
  };
  await secrets.send(new PutSecretValueCommand({ SecretId: SecretArn, SecretString: JSON.stringify(key) }));
  await putSigningKey(key.kid, key.secret, KvsArn);
  return { PhysicalResourceId: key.kid };
}

async function storedKey(secretArn: string): Promise<PlaybackKey | undefined> {
  const { SecretString } = await secrets.send(new GetSecretValueCommand({ SecretId: secretArn }));
  const value = SecretString ? (JSON.parse(SecretString) as Partial<PlaybackKey>) : {};
  return value.kid && value.secret ? { kid: value.kid, secret: value.secret } : undefined;
}
