import { describe, expect, test } from '@jest/globals';
import { Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import type { CfnRole } from 'aws-cdk-lib/aws-iam';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { playbackGateSource } from '../../lambdas/edge/playback-gate.ts';
import { buildStage, resourcesOfType } from './app.ts';

type Behavior = Record<string, unknown> & {
  PathPattern?: string;
  TrustedKeyGroups?: unknown[];
  FunctionAssociations?: Array<{ EventType: string; FunctionARN: unknown }>;
};
type Statement = { Action: string | string[]; Resource: unknown; Effect?: string };

/** Every statement of the policies attached to one role. */
function statementsOf(template: Template, stack: Stack, role: { node: { defaultChild?: unknown } }) {
  const roleId = stack.getLogicalId(role.node.defaultChild as CfnRole);
  return resourcesOfType(template, 'AWS::IAM::Policy')
    .filter(([, p]) => JSON.stringify(p.Properties!.Roles) === JSON.stringify([{ Ref: roleId }]))
    .flatMap(([, p]) => (p.Properties!.PolicyDocument as { Statement: Statement[] }).Statement);
}

describe.each(['dev', 'prod'] as const)('media delivery (%s)', (stageName) => {
  const { stateful, stateless, statefulTemplate: template, statelessTemplate, stage } = buildStage(stageName);
  const delivery = stateful.delivery;
  const logicalId = (c: { node: { defaultChild?: unknown } }) =>
    Stack.of(stateful).getLogicalId(c.node.defaultChild as CfnFunction);
  const distribution = template.findResources('AWS::CloudFront::Distribution')[
    logicalId(delivery.distribution)
  ]!.Properties.DistributionConfig;
  const behaviors: Behavior[] = [distribution.DefaultCacheBehavior, ...distribution.CacheBehaviors];
  const gateId = logicalId(delivery.gate);
  const storeId = logicalId(delivery.keyValueStore);

  test('the media bucket is the origin, read through OAC (no OAI, no public bucket)', () => {
    expect(distribution.Origins).toHaveLength(1);
    const [origin] = distribution.Origins;
    expect(JSON.stringify(origin.DomainName)).toContain('StorageMedia');
    expect(origin.OriginAccessControlId).toEqual({ 'Fn::GetAtt': [expect.any(String), 'Id'] });
    expect(origin.S3OriginConfig.OriginAccessIdentity).toBe('');
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

  test('every behavior is HTTPS-only and passes the playback gate on viewer request (no signed URLs)', () => {
    for (const behavior of behaviors) {
      expect(behavior.ViewerProtocolPolicy).toBe('https-only');
      expect(behavior.TrustedKeyGroups).toBeUndefined();
      expect(behavior.FunctionAssociations).toEqual([
        { EventType: 'viewer-request', FunctionARN: { 'Fn::GetAtt': [gateId, 'FunctionARN'] } },
      ]);
      expect(behavior.ResponseHeadersPolicyId).toEqual({ Ref: expect.stringMatching(/ResponseHeaders/) });
    }
    expect(resourcesOfType(template, 'AWS::CloudFront::KeyGroup')).toEqual([]);
  });

  test('the gate is the repository source with the stage settings, on cloudfront-js-2.0, with the store', () => {
    const gate = template.findResources('AWS::CloudFront::Function')[gateId]!.Properties;
    expect(gate.FunctionCode).toBe(playbackGateSource({ embedOrigins: delivery.embedOrigins }));
    expect(gate.AutoPublish).toBe(true);
    expect(gate.FunctionConfig).toEqual(
      expect.objectContaining({
        Runtime: 'cloudfront-js-2.0',
        KeyValueStoreAssociations: [{ KeyValueStoreARN: { 'Fn::GetAtt': [storeId, 'Arn'] } }],
      }),
    );
  });

  test('segments, init segments, MP4s and images are cached for a year; playlists and captions briefly', () => {
    const policies = template.findResources('AWS::CloudFront::CachePolicy');
    const ttl = (behavior: Behavior) =>
      policies[(behavior.CachePolicyId as { Ref: string }).Ref]!.Properties.CachePolicyConfig;
    for (const pattern of ['*.m4s', '*.mp4', '*.jpg']) {
      const config = ttl(behaviors.find((b) => b.PathPattern === pattern)!);
      expect(config.DefaultTTL).toBe(365 * 24 * 3600);
      // The gate strips the token: the cache key is the object path, one copy for every viewer.
      expect(config.ParametersInCacheKeyAndForwardedToOrigin.QueryStringsConfig.QueryStringBehavior).toBe(
        'none',
      );
    }
    for (const pattern of ['*.m3u8', '*.vtt']) {
      expect(ttl(behaviors.find((b) => b.PathPattern === pattern)!).MaxTTL).toBeLessThanOrEqual(60);
    }
    expect(ttl(behaviors[0]!).MaxTTL).toBeLessThanOrEqual(60);
  });

  test('security headers, and CORS for any embedding origin by default', () => {
    expect(stage.embedOrigins).toEqual(['*']);
    template.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
      ResponseHeadersPolicyConfig: Match.objectLike({
        SecurityHeadersConfig: Match.objectLike({
          StrictTransportSecurity: Match.objectLike({ Override: true }),
          ContentTypeOptions: { Override: true },
        }),
        CorsConfig: Match.objectLike({
          AccessControlAllowOrigins: { Items: ['*'] },
          AccessControlAllowHeaders: { Items: ['Range'] },
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

  test('the signing key comes from a deploy-time custom resource that writes only the secret and the store', () => {
    const [[, cr]] = resourcesOfType(template, 'Custom::PlaybackKey') as [
      [string, { Properties: Record<string, unknown> }],
    ];
    expect(cr.Properties.SecretArn).toEqual({ Ref: logicalId(delivery.signingKey) });
    expect(cr.Properties.KvsArn).toEqual({ 'Fn::GetAtt': [storeId, 'Arn'] });
    const fn = delivery.node.findChild('PlaybackKeyFn') as unknown as {
      role: { node: { defaultChild?: unknown } };
    };
    const statements = statementsOf(template, Stack.of(stateful), fn.role).filter(
      (s) => !JSON.stringify(s.Action).includes('logs:') && !JSON.stringify(s.Action).includes('xray:'),
    );
    expect(statements).toEqual([
      expect.objectContaining({
        Action: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'],
        Resource: { Ref: logicalId(delivery.signingKey) },
      }),
      expect.objectContaining({
        Action: [
          'cloudfront-keyvaluestore:DescribeKeyValueStore',
          'cloudfront-keyvaluestore:GetKey',
          'cloudfront-keyvaluestore:UpdateKeys',
        ],
        Resource: { 'Fn::GetAtt': [storeId, 'Arn'] },
      }),
    ]);
    const [secretEntry] = resourcesOfType(template, 'AWS::SecretsManager::Secret').filter(
      ([id]) => id === logicalId(delivery.signingKey),
    );
    expect(secretEntry![1].DeletionPolicy).toBe(stage.retainData ? 'Retain' : 'Delete');
  });

  const functionProps = (fn: { function: { node: { defaultChild?: unknown } } }) =>
    statelessTemplate.findResources('AWS::Lambda::Function')[
      Stack.of(stateless).getLogicalId(fn.function.node.defaultChild as CfnFunction)
    ]!.Properties;

  test.each(['videos-get', 'videos-list', 'videos-update'])(
    '%s gets MEDIA_BASE_URL, the key secret ARN and the private URL lifetime, and reads that secret only',
    (entry) => {
      const fn = stateless.api.functions.get(entry)!;
      const env = functionProps(fn).Environment.Variables;
      expect(JSON.stringify(env.MEDIA_BASE_URL)).toMatch(/https:\/\/.*MediaDeliveryDistribution/);
      expect(JSON.stringify(env.PLAYBACK_KEY_SECRET_ARN)).toContain('MediaDeliveryPlaybackKey');
      expect(env.PRIVATE_PLAYBACK_SECONDS).toBe(String(stage.privatePlaybackSeconds));
      const secretStatements = statementsOf(statelessTemplate, Stack.of(stateless), fn.role).filter((s) =>
        JSON.stringify(s.Action).includes('secretsmanager'),
      );
      expect(secretStatements).toEqual([
        expect.objectContaining({
          Action: 'secretsmanager:GetSecretValue',
          Resource: env.PLAYBACK_KEY_SECRET_ARN,
        }),
      ]);
    },
  );

  test('no other API function can read the signing key', () => {
    for (const [entry, fn] of stateless.api.functions) {
      if (['videos-get', 'videos-list', 'videos-update'].includes(entry)) continue;
      expect(functionProps(fn).Environment.Variables.PLAYBACK_KEY_SECRET_ARN).toBeUndefined();
    }
  });

  test('revocations: updating and deleting videos may send to edge-sync, whose consumer runs outside the VPC', () => {
    const edgeSyncQueue = stateful.queues.edgeSync.queue;
    for (const entry of ['videos-update', 'videos-delete']) {
      const env = functionProps(stateless.api.functions.get(entry)!).Environment.Variables;
      expect(JSON.stringify(env.EDGE_SYNC_QUEUE_URL)).toContain('QueuesEdgeSync');
    }
    const consumer = stateless.pipeline.consumers.get('edge-sync')!;
    const props = functionProps(consumer);
    expect(props.VpcConfig).toBeUndefined();
    expect(props.Environment.Variables.DB_PROXY_HOST).toBeDefined(); // shared env: names only, no access
    expect(JSON.stringify(props.Environment.Variables.EDGE_KVS_ARN)).toContain('MediaDeliveryStore');
    const statements = statementsOf(statelessTemplate, Stack.of(stateless), consumer.role);
    expect(statements.some((s) => JSON.stringify(s.Action).includes('rds-db:connect'))).toBe(false);
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: [
          'cloudfront-keyvaluestore:DescribeKeyValueStore',
          'cloudfront-keyvaluestore:GetKey',
          'cloudfront-keyvaluestore:UpdateKeys',
        ],
        Resource: props.Environment.Variables.EDGE_KVS_ARN,
      }),
    );
    expect(edgeSyncQueue).toBeDefined();
  });

  test('the outbox relay runs every minute and may send to edge-sync', () => {
    const relay = stateless.pipeline.scheduled.functions.get('outbox-relay')!;
    expect(JSON.stringify(functionProps(relay).Environment.Variables.EDGE_SYNC_QUEUE_URL)).toContain(
      'QueuesEdgeSync',
    );
    statelessTemplate.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [
        Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('FnOutboxRelay'), 'Arn'] } }),
      ],
    });
  });
});
