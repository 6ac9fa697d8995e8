import { generateKeyPairSync } from 'node:crypto';
import { PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';

/**
 * Deploy-time custom resource (CDK Provider framework) behind lib/constructs/media-delivery.ts: makes
 * the key pair CloudFront signed URLs are checked against. On Create (and on an Update that names a
 * different secret) it generates an RSA-2048 key pair, stores the private key (PKCS#8 PEM) as the value
 * of the given secret, and returns only the public key (SPKI PEM) for the CloudFront PublicKey. The
 * private key never leaves the function except into Secrets Manager. Delete does nothing: the secret
 * is a CloudFormation resource of its own, kept or removed by its removal policy.
 */
export interface KeyPairProperties {
  /** ARN of the secret that receives the private key PEM. */
  SecretArn: string;
}

export interface KeyPairResult {
  PhysicalResourceId: string;
  Data?: { PublicKeyPem: string };
}

const secrets = new SecretsManagerClient({});

export async function handler(event: CloudFormationCustomResourceEvent): Promise<KeyPairResult> {
  const { SecretArn } = event.ResourceProperties as unknown as KeyPairProperties & { ServiceToken: string };
  if (!SecretArn) throw new Error('SecretArn is required');
  if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId };
  if (event.RequestType === 'Update') {
    const previous = event.OldResourceProperties as unknown as KeyPairProperties;
    const { PhysicalResourceId } = event;
    // Same secret: keep the key pair (a new one would invalidate every playback URL already handed out).
    // The public key is returned again so the CloudFront PublicKey keeps its value.
    if (previous.SecretArn === SecretArn && PhysicalResourceId.startsWith('cdn-key:')) {
      return { PhysicalResourceId, Data: { PublicKeyPem: decodePhysicalId(PhysicalResourceId) } };
    }
  }
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  await secrets.send(new PutSecretValueCommand({ SecretId: SecretArn, SecretString: privateKey }));
  return { PhysicalResourceId: encodePhysicalId(publicKey), Data: { PublicKeyPem: publicKey } };
}

/**
 * The physical id carries the public key (base64 of the DER body, well under CloudFormation's 1 KB
 * limit), so an Update can hand the same public key back without reading the private key.
 */
export function encodePhysicalId(publicKeyPem: string): string {
  return `cdn-key:${publicKeyPem.replace(/-----[A-Z ]+-----|\s/g, '')}`;
}

export function decodePhysicalId(physicalId: string): string {
  const body = physicalId.replace(/^cdn-key:/, '');
  const lines = body.match(/.{1,64}/g) ?? [];
  return `-----BEGIN PUBLIC KEY-----\n${lines.join('\n')}\n-----END PUBLIC KEY-----\n`;
}
