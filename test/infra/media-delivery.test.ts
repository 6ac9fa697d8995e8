import { describe, expect, test } from '@jest/globals';
import { Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import type { CfnRole } from 'aws-cdk-lib/aws-iam';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { buildStage, resourcesOfType } from './app.ts';

type Behavior = Record<string, unknown> & { PathPattern?: string; TrustedKeyGroups?: unknown[] };

describe.each(['dev', 'prod'] as const)('media delivery (%s)', (stageName) => {
  const { stateful, stateless, statefulTemplate: template, statelessTemplate, stage } = buildStage(stageName);
  const delivery = stateful.delivery;
  const logicalId = (c: { node: { defaultChild?: unknown } }) =>
    Stack.of(stateful).getLogicalId(c.node.defaultChild as CfnFunction);
  const distribution = template.findResources('AWS::CloudFront::Distribution')[
    logicalId(delivery.distribution)
  ]!.Properties.DistributionConfig;
  const behaviors: Behavior[] = [distribution.DefaultCacheBehavior, ...distribution.CacheBehaviors];
  const keyGroupId = logicalId(delivery.keyGroup);

  test('the media bucket is the origin, read through OAC (no OAI, no public bucket)', () => {
    expect(distribution.Origins).toHaveLength(1);
    const [origin] = distribution.Origins;
    expect(JSON.stringify(origin.DomainName)).toContain('StorageMedia');
    expect(origin.OriginAccessControlId).toEqual({ 'Fn::GetAtt': [expect.any(String), 'Id'] });
    expect(origin.S3OriginConfig.OriginAccessIdentity).toBe('');
    template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: Match.objectLike({
        OriginAccessControlOriginType: 's3',
        SigningBehavior: 'always',
      }),
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: Match.stringLikeRegexp('^StorageMedia') },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Action: 's3:GetObject',
            Principal: { Service: 'cloudfront.amazonaws.com' },
            Condition: { StringEquals: { 'AWS:SourceArn': Match.anyValue() } },
          }),
        ]),
      },
    });
  });

  test('every behavior is HTTPS-only, signed (the key group) and has the response headers policy', () => {
    for (const behavior of behaviors) {
      expect(behavior.ViewerProtocolPolicy).toBe('https-only');
      expect(behavior.TrustedKeyGroups).toEqual([{ Ref: keyGroupId }]);
      expect(behavior.ResponseHeadersPolicyId).toEqual({ Ref: expect.stringMatching(/ResponseHeaders/) });
    }
  });

  test('segments, init segments and posters are cached for a year; playlists briefly', () => {
    const policies = template.findResources('AWS::CloudFront::CachePolicy');
    const ttl = (behavior: Behavior) =>
      policies[(behavior.CachePolicyId as { Ref: string }).Ref]!.Properties.CachePolicyConfig;
    for (const pattern of ['*.m4s', '*.mp4', '*.ts', '*.jpg']) {
      const config = ttl(behaviors.find((b) => b.PathPattern === pattern)!);
      expect(config.DefaultTTL).toBe(365 * 24 * 3600);
      expect(config.ParametersInCacheKeyAndForwardedToOrigin.QueryStringsConfig.QueryStringBehavior).toBe(
        'none',
      );
    }
    const playlists = ttl(behaviors.find((b) => b.PathPattern === '*.m3u8')!);
    expect(playlists.MaxTTL).toBeLessThanOrEqual(60);
    expect(ttl(behaviors[0]!).MaxTTL).toBeLessThanOrEqual(60);
  });

  test('security headers, and CORS for the web origins (plus the deployed web app)', () => {
    template.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
      ResponseHeadersPolicyConfig: Match.objectLike({
        SecurityHeadersConfig: Match.objectLike({
          StrictTransportSecurity: Match.objectLike({ Override: true }),
          ContentTypeOptions: { Override: true },
        }),
        CorsConfig: Match.objectLike({
          AccessControlAllowOrigins: {
            Items: [...stage.webOrigins, Match.objectLike({ 'Fn::Join': Match.anyValue() })],
          },
          AccessControlAllowCredentials: false,
        }),
      }),
    });
  });

  test('standard logs go to the access-logs bucket, which allows ACLs for CloudFront log delivery only', () => {
    expect(distribution.Logging).toEqual({
      Bucket: { 'Fn::GetAtt': [expect.stringMatching(/^StorageAccessLogs/), 'RegionalDomainName'] },
      Prefix: 'cdn-media/',
    });
  });

  test('the key pair comes from a deploy-time custom resource that writes the private key to the secret', () => {
    const [[crId, cr]] = resourcesOfType(template, 'Custom::CloudFrontKeyPair') as [
      [string, { Properties: Record<string, unknown> }],
    ];
    expect(cr.Properties.SecretArn).toEqual({ Ref: logicalId(delivery.signingKey) });
    template.hasResourceProperties('AWS::CloudFront::PublicKey', {
      PublicKeyConfig: Match.objectLike({ EncodedKey: { 'Fn::GetAtt': [crId, 'PublicKeyPem'] } }),
    });
    template.hasResourceProperties('AWS::CloudFront::KeyGroup', {
      KeyGroupConfig: Match.objectLike({ Items: [{ Ref: logicalId(delivery.publicKey) }] }),
    });
    // The handler may only put the secret's value.
    const fn = delivery.node.findChild('KeyPairFn') as unknown as {
      role: { node: { defaultChild?: unknown } };
    };
    const roleId = Stack.of(stateful).getLogicalId(fn.role.node.defaultChild as CfnRole);
    const statements = resourcesOfType(template, 'AWS::IAM::Policy')
      .filter(([, p]) => JSON.stringify(p.Properties!.Roles) === JSON.stringify([{ Ref: roleId }]))
      .flatMap(
        ([, p]) =>
          (p.Properties!.PolicyDocument as { Statement: Array<{ Action: unknown; Resource: unknown }> })
            .Statement,
      );
    const secretStatement = statements.find((s) => JSON.stringify(s.Action).includes('secretsmanager'));
    expect(secretStatement).toEqual(
      expect.objectContaining({
        Action: 'secretsmanager:PutSecretValue',
        Resource: { Ref: logicalId(delivery.signingKey) },
      }),
    );
    const [secretEntry] = resourcesOfType(template, 'AWS::SecretsManager::Secret').filter(
      ([id]) => id === logicalId(delivery.signingKey),
    );
    expect(secretEntry![1].DeletionPolicy).toBe(stage.retainData ? 'Retain' : 'Delete');
  });

  test.each(['videos-get', 'videos-list', 'videos-update'])(
    '%s gets MEDIA_BASE_URL, CDN_KEY_PAIR_ID, the secret ARN, and GetSecretValue on that secret only',
    (entry) => {
      const fn = stateless.api.functions.get(entry)!;
      const props =
        statelessTemplate.findResources('AWS::Lambda::Function')[
          Stack.of(stateless).getLogicalId(fn.function.node.defaultChild as CfnFunction)
        ]!.Properties;
      const env = props.Environment.Variables;
      expect(JSON.stringify(env.MEDIA_BASE_URL)).toMatch(/https:\/\/.*MediaDeliveryDistribution/);
      expect(JSON.stringify(env.CDN_KEY_PAIR_ID)).toContain('MediaDeliveryPublicKey');
      expect(JSON.stringify(env.CDN_PRIVATE_KEY_SECRET_ARN)).toContain('MediaDeliverySigningKey');
      const roleId = Stack.of(stateless).getLogicalId(fn.role.node.defaultChild as CfnRole);
      const secretStatements = resourcesOfType(statelessTemplate, 'AWS::IAM::Policy')
        .filter(([, p]) => JSON.stringify(p.Properties!.Roles) === JSON.stringify([{ Ref: roleId }]))
        .flatMap(
          ([, p]) =>
            (p.Properties!.PolicyDocument as { Statement: Array<{ Action: unknown; Resource: unknown }> })
              .Statement,
        )
        .filter((s) => JSON.stringify(s.Action).includes('secretsmanager'));
      expect(secretStatements).toEqual([
        expect.objectContaining({
          Action: 'secretsmanager:GetSecretValue',
          Resource: env.CDN_PRIVATE_KEY_SECRET_ARN,
        }),
      ]);
    },
  );

  test('no other API function can read the signing key', () => {
    for (const [entry, fn] of stateless.api.functions) {
      if (['videos-get', 'videos-list', 'videos-update'].includes(entry)) continue;
      const props =
        statelessTemplate.findResources('AWS::Lambda::Function')[
          Stack.of(stateless).getLogicalId(fn.function.node.defaultChild as CfnFunction)
        ]!.Properties;
      expect(props.Environment.Variables.CDN_PRIVATE_KEY_SECRET_ARN).toBeUndefined();
    }
  });
});
