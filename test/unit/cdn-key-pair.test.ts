import { createPrivateKey, createPublicKey, createSign, createVerify } from 'node:crypto';
import { PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { beforeEach, describe, expect, it } from '@jest/globals';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';

const secrets = mockClient(SecretsManagerClient);
const { handler, decodePhysicalId, encodePhysicalId } = await import('../../lambdas/deploy/cdn-key-pair.ts');

const SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:signing-key-AbCdEf';
const base = {
  ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:provider',
  ResponseURL: 'https://example.com',
  StackId: 'stack',
  RequestId: 'request',
  LogicalResourceId: 'KeyPair',
  ResourceType: 'Custom::CloudFrontKeyPair',
};
const event = (e: Record<string, unknown>) =>
  ({ ...base, ...e }) as unknown as CloudFormationCustomResourceEvent;

describe('CloudFront key pair custom resource (lambdas/deploy/cdn-key-pair.ts)', () => {
  beforeEach(() => {
    secrets.reset();
    secrets.on(PutSecretValueCommand).resolves({});
  });

  it('Create: stores an RSA-2048 private key in the secret and returns only the matching public key', async () => {
    const result = await handler(
      event({ RequestType: 'Create', ResourceProperties: { ServiceToken: 'x', SecretArn: SECRET } }),
    );
    const puts = secrets.commandCalls(PutSecretValueCommand);
    expect(puts).toHaveLength(1);
    expect(puts[0]!.args[0].input.SecretId).toBe(SECRET);
    const privatePem = puts[0]!.args[0].input.SecretString!;
    expect(privatePem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const publicPem = result.Data!.PublicKeyPem;
    expect(publicPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(JSON.stringify(result)).not.toContain('PRIVATE');
    expect(createPublicKey(publicPem).asymmetricKeyDetails?.modulusLength).toBe(2048);
    // The pair matches: what the private key signs, the public key verifies (as CloudFront does).
    const signature = createSign('RSA-SHA1').update('policy').sign(createPrivateKey(privatePem));
    expect(createVerify('RSA-SHA1').update('policy').verify(publicPem, signature)).toBe(true);
    expect(decodePhysicalId(result.PhysicalResourceId)).toBe(publicPem);
  });

  it('Update with the same secret keeps the key pair (URLs already handed out stay valid)', async () => {
    const created = await handler(
      event({ RequestType: 'Create', ResourceProperties: { SecretArn: SECRET } }),
    );
    secrets.reset();
    const updated = await handler(
      event({
        RequestType: 'Update',
        PhysicalResourceId: created.PhysicalResourceId,
        ResourceProperties: { SecretArn: SECRET },
        OldResourceProperties: { SecretArn: SECRET },
      }),
    );
    expect(secrets.commandCalls(PutSecretValueCommand)).toHaveLength(0);
    expect(updated).toEqual(created);
  });

  it('Update to another secret makes a new pair; Delete does nothing (the secret has its own removal policy)', async () => {
    const created = await handler(
      event({ RequestType: 'Create', ResourceProperties: { SecretArn: SECRET } }),
    );
    const moved = await handler(
      event({
        RequestType: 'Update',
        PhysicalResourceId: created.PhysicalResourceId,
        ResourceProperties: { SecretArn: `${SECRET}2` },
        OldResourceProperties: { SecretArn: SECRET },
      }),
    );
    expect(moved.Data!.PublicKeyPem).not.toBe(created.Data!.PublicKeyPem);
    secrets.reset();
    const deleted = await handler(
      event({
        RequestType: 'Delete',
        PhysicalResourceId: moved.PhysicalResourceId,
        ResourceProperties: { SecretArn: SECRET },
      }),
    );
    expect(deleted).toEqual({ PhysicalResourceId: moved.PhysicalResourceId });
    expect(secrets.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });

  it('the physical id carries the public key within CloudFormation limits', () => {
    const pem = '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n';
    expect(encodePhysicalId(pem)).toBe('cdn-key:AAAA');
    expect(decodePhysicalId('cdn-key:AAAA')).toBe(pem);
  });
});
