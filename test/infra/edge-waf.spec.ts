import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { Template } from 'aws-cdk-lib/assertions';
import { REPO_ROOT } from '../../lib/constructs/app-function.ts';
import { buildStage, resourcesOfType } from './app.ts';

const stages = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')).context.stages;
const ACL_ARN =
  'arn:aws:wafv2:us-east-1:111122223333:global/webacl/videocloud-dev-cdn/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111';

const distributionAcls = (template: Template) =>
  resourcesOfType(template, 'AWS::CloudFront::Distribution').map(
    ([, d]) => (d.Properties?.DistributionConfig as { WebACLId?: string } | undefined)?.WebACLId,
  );

describe('the CloudFront web ACL', () => {
  test('lives in its own us-east-1 stack, scoped to CloudFront, with a rate rule and managed rules', () => {
    const { edgeWaf } = buildStage('dev');
    expect(edgeWaf.region).toBe('us-east-1');
    const template = Template.fromStack(edgeWaf);
    const [[, acl]] = resourcesOfType(template, 'AWS::WAFv2::WebACL') as [
      [string, { Properties: Record<string, unknown> }],
    ];
    expect(acl.Properties.Scope).toBe('CLOUDFRONT');
    const rules = acl.Properties.Rules as Array<{ Statement: Record<string, unknown> }>;
    expect(rules.some((r) => 'RateBasedStatement' in r.Statement)).toBe(true);
    expect(rules.some((r) => 'ManagedRuleGroupStatement' in r.Statement)).toBe(true);
    template.hasOutput('WebAclArn', {});
  });

  test('is not attached until the stage names it', () => {
    expect(distributionAcls(buildStage('dev').statefulTemplate)).toEqual([undefined, undefined]);
  });

  test("protects both distributions once the stage's cloudFrontWebAclArn is set", () => {
    const { statefulTemplate } = buildStage('dev', {
      stages: { ...stages, dev: { ...stages.dev, cloudFrontWebAclArn: ACL_ARN } },
    });
    expect(distributionAcls(statefulTemplate)).toEqual([ACL_ARN, ACL_ARN]);
  });

  test('refuses an ARN that is not a CloudFront web ACL', () => {
    const regional = 'arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/x/a1b2c3d4';
    expect(() =>
      buildStage('dev', { stages: { ...stages, dev: { ...stages.dev, cloudFrontWebAclArn: regional } } }),
    ).toThrow(/cloudFrontWebAclArn: must be the ARN of a CloudFront/);
  });
});
