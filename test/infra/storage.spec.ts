import { describe, expect, test } from '@jest/globals';
import { buildStage, resourcesOfType } from './app.ts';

describe.each(['dev', 'prod'] as const)('media storage (%s)', (stageName) => {
  const { statefulTemplate: template, stage } = buildStage(stageName);
  // MediaStorage's buckets; the web app's bucket (WebHosting) is covered by web-hosting.test.ts.
  const buckets = resourcesOfType(template, 'AWS::S3::Bucket').filter(([id]) => id.startsWith('Storage'));
  const policies = resourcesOfType(template, 'AWS::S3::BucketPolicy');

  test('there are exactly three buckets: uploads, media and their access logs', () => {
    expect(buckets).toHaveLength(3);
  });

  test.each(buckets.map(([id]) => id))(
    '%s blocks all public access, is SSE-S3 encrypted and owner-enforced (owner-preferred for access logs)',
    (id) => {
      const props = template.findResources('AWS::S3::Bucket')[id]!.Properties;
      expect(props.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(props.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([
        { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
      ]);
      // ACLs stay disabled everywhere except the access-logs bucket, which CloudFront standard logging
      // writes to through an ACL grant (the bucket owner still owns the objects).
      const logs = JSON.stringify(props.LoggingConfiguration ?? null) === 'null' && !props.CorsConfiguration;
      const isAccessLogs =
        logs &&
        (props.LifecycleConfiguration?.Rules ?? []).some(
          (rule: { Id?: string }) => rule.Id === 'expire-access-logs',
        );
      expect(props.OwnershipControls.Rules).toEqual([
        { ObjectOwnership: isAccessLogs ? 'BucketOwnerPreferred' : 'BucketOwnerEnforced' },
      ]);
    },
  );

  test.each(buckets.map(([id]) => id))('%s has a policy that denies every non-TLS request', (id) => {
    const policy = policies.find(
      ([, p]) => JSON.stringify(p.Properties?.Bucket) === JSON.stringify({ Ref: id }),
    );
    expect(policy).toBeDefined();
    const statements = (
      policy![1].Properties!.PolicyDocument as { Statement: Array<Record<string, unknown>> }
    ).Statement;
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Action: 's3:*',
        Principal: { AWS: '*' },
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
  });

  test('uploads and media buckets write server access logs to the logs bucket', () => {
    const logged = buckets.filter(([, b]) => b.Properties?.LoggingConfiguration);
    expect(logged).toHaveLength(2);
    for (const [, bucket] of logged) {
      expect(bucket.Properties!.LoggingConfiguration).toEqual({
        DestinationBucketName: { Ref: expect.stringMatching(/^StorageAccessLogs/) },
        LogFilePrefix: expect.stringMatching(/^(uploads|media)\/$/),
      });
    }
  });

  test('every bucket aborts incomplete multipart uploads within a day, or expires everything', () => {
    for (const [, bucket] of buckets) {
      const rules = (bucket.Properties!.LifecycleConfiguration as { Rules: Array<Record<string, unknown>> })
        .Rules;
      const abort = rules.find((r) => r.AbortIncompleteMultipartUpload) as
        | { AbortIncompleteMultipartUpload: { DaysAfterInitiation: number } }
        | undefined;
      if (abort) expect(abort.AbortIncompleteMultipartUpload.DaysAfterInitiation).toBeLessThanOrEqual(1);
      else
        expect(rules).toContainEqual(expect.objectContaining({ ExpirationInDays: stage.logRetentionDays }));
    }
  });

  test('the uploads bucket lets browsers PUT parts only from the web origins and read their ETag', () => {
    const cors = buckets.map(([, b]) => b.Properties?.CorsConfiguration).filter(Boolean) as Array<{
      CorsRules: Array<{ AllowedOrigins: string[]; AllowedMethods: string[]; ExposedHeaders: string[] }>;
    }>;
    expect(cors).toHaveLength(1);
    // The stage's origins, and the deployed web app (WebHosting) in a rule of its own.
    const origins = cors[0]!.CorsRules.flatMap((rule) => rule.AllowedOrigins);
    expect(origins.slice(0, stage.webOrigins.length)).toEqual(stage.webOrigins);
    expect(JSON.stringify(origins.slice(stage.webOrigins.length))).toMatch(
      /^\[\{"Fn::Join":\["",\["https:\/\/",\{"Fn::GetAtt":\["WebDistribution/,
    );
    for (const rule of cors[0]!.CorsRules) {
      expect(rule.AllowedOrigins).not.toContain('*');
      expect(rule.AllowedMethods).toEqual(['PUT']);
      expect(rule.ExposedHeaders).toContain('ETag');
    }
  });

  test(`buckets are ${stageName === 'prod' ? 'retained' : 'deleted with their objects'} when removed`, () => {
    for (const [, bucket] of buckets) {
      expect(bucket.DeletionPolicy).toBe(stage.retainData ? 'Retain' : 'Delete');
    }
    // Plus the web bucket's (build output only, always deleted with its objects).
    template.resourceCountIs('Custom::S3AutoDeleteObjects', (stage.retainData ? 0 : 3) + 1);
  });

  test('no bucket policy grants anything to everyone', () => {
    for (const [, policy] of policies) {
      for (const statement of (
        policy.Properties!.PolicyDocument as { Statement: Array<Record<string, unknown>> }
      ).Statement) {
        if (statement.Effect === 'Allow') {
          expect(statement.Principal).not.toEqual('*');
          expect(statement.Principal).not.toEqual({ AWS: '*' });
        }
      }
    }
  });
});
