import { describe, expect, test } from '@jest/globals';
import { SCANNED_ONLY_PRINCIPAL_TAG } from '../../lib/constructs/malware-protection.ts';
import { buildStage, resourcesOfType } from './app.ts';

describe.each(['dev', 'prod'] as const)('hardening (%s)', (stageName) => {
  const { statefulTemplate, statelessTemplate } = buildStage(stageName);

  test('a regional WAF web ACL with a per-IP rate rule and AWS managed rules is attached to the API stage', () => {
    const acls = resourcesOfType(statelessTemplate, 'AWS::WAFv2::WebACL');
    expect(acls).toHaveLength(1);
    type Rule = {
      Name: string;
      Action?: unknown;
      Statement: { RateBasedStatement?: { AggregateKeyType: string } };
    };
    const props = acls[0]![1].Properties as unknown as { Scope: string; Rules: Rule[] };
    expect(props.Scope).toBe('REGIONAL');
    const names = props.Rules.map((rule) => rule.Name);
    expect(names).toEqual(
      expect.arrayContaining([
        'RatePerIp',
        'AWSManagedRulesCommonRuleSet',
        'AWSManagedRulesKnownBadInputsRuleSet',
      ]),
    );
    const rate = props.Rules.find((rule) => rule.Name === 'RatePerIp')!;
    expect(rate.Action).toEqual({ Block: {} });
    expect(rate.Statement.RateBasedStatement?.AggregateKeyType).toBe('IP');
    const associations = resourcesOfType(statelessTemplate, 'AWS::WAFv2::WebACLAssociation');
    expect(associations).toHaveLength(1);
    expect(JSON.stringify(associations[0]![1].Properties)).toMatch(/restapis/);
  });

  test('API Gateway stage throttling is still set on every method', () => {
    const stage = resourcesOfType(statelessTemplate, 'AWS::ApiGateway::Stage')[0]![1].Properties as {
      MethodSettings: Array<{ ThrottlingRateLimit?: number; ThrottlingBurstLimit?: number }>;
    };
    expect(stage.MethodSettings.some((m) => m.ThrottlingRateLimit && m.ThrottlingBurstLimit)).toBe(true);
  });

  test('GuardDuty Malware Protection scans the uploads bucket and tags objects', () => {
    const plans = resourcesOfType(statefulTemplate, 'AWS::GuardDuty::MalwareProtectionPlan');
    expect(plans).toHaveLength(1);
    const plan = plans[0]![1].Properties as unknown as {
      Actions: unknown;
      ProtectedResource: { S3Bucket: { ObjectPrefixes: string[]; BucketName: unknown } };
    };
    expect(plan.Actions).toEqual({ Tagging: { Status: 'ENABLED' } });
    expect(plan.ProtectedResource.S3Bucket.ObjectPrefixes).toEqual(['uploads/']);
    expect(JSON.stringify(plan.ProtectedResource.S3Bucket.BucketName)).toMatch(/StorageUploads/);
    const role = resourcesOfType(statefulTemplate, 'AWS::IAM::Role').find(([id]) =>
      id.startsWith('MalwareProtection'),
    );
    expect(JSON.stringify(role![1].Properties)).toContain('malware-protection-plan.guardduty.amazonaws.com');
  });

  test('the uploads bucket denies reads of unscanned or infected sources to scanned-only roles', () => {
    const policies = JSON.stringify(resourcesOfType(statefulTemplate, 'AWS::S3::BucketPolicy'));
    expect(policies).toContain(`aws:PrincipalTag/${SCANNED_ONLY_PRINCIPAL_TAG}`);
    expect(policies).toContain('s3:ExistingObjectTag/GuardDutyMalwareScanStatus');
    expect(policies).toContain('NO_THREATS_FOUND');
  });
});

describe('pipeline roles read scanned sources only', () => {
  const { statelessTemplate } = buildStage('dev');
  test('ingest, transcode and MediaConvert roles carry the scanned-only principal tag; API roles do not', () => {
    const tagged = resourcesOfType(statelessTemplate, 'AWS::IAM::Role')
      .filter(([, role]) => JSON.stringify(role.Properties?.Tags ?? []).includes(SCANNED_ONLY_PRINCIPAL_TAG))
      .map(([id]) => id);
    expect(tagged.some((id) => /Ingest/.test(id))).toBe(true);
    expect(tagged.some((id) => /Transcode/.test(id))).toBe(true);
    expect(tagged.some((id) => /MediaConvert/.test(id))).toBe(true);
    expect(tagged.some((id) => /^Api/.test(id))).toBe(false);
  });
});
