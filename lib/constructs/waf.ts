import { Validations } from 'aws-cdk-lib';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct, type IConstruct } from 'constructs';

export interface WebAclProps {
  /** REGIONAL for API Gateway; CLOUDFRONT only in a us-east-1 stack. */
  readonly scope: 'REGIONAL' | 'CLOUDFRONT';
  /** Requests per client IP per 5 minutes before the rate-based rule blocks it. */
  readonly ratePer5Minutes: number;
  readonly name: string;
}

/**
 * A WAF web ACL: a per-IP rate-based rule, AWS's common rule set and known-bad-inputs rule set, and
 * the Amazon IP reputation list. The common set's 8 KB body-size rule only counts: the API takes JSON
 * bodies up to 64 KiB (handler-enforced, 413) and the media distribution serves GETs.
 *
 * API: associated with the REST API stage (lib/stateless-stack.ts). CloudFront: a CLOUDFRONT-scope
 * instance lives in the us-east-1 EdgeWaf stack (lib/edge-waf-stack.ts), attached through the stage's
 * `cloudFrontWebAclArn`.
 */
export class WebAcl extends Construct {
  public readonly webAcl: wafv2.CfnWebACL;

  constructor(scope: Construct, id: string, props: WebAclProps) {
    super(scope, id);
    const visibility = (metricName: string) => ({
      cloudWatchMetricsEnabled: true,
      sampledRequestsEnabled: true,
      metricName,
    });
    const managed = (
      priority: number,
      name: string,
      ruleActionOverrides?: wafv2.CfnWebACL.RuleActionOverrideProperty[],
    ) => ({
      name,
      priority,
      overrideAction: { none: {} },
      statement: {
        managedRuleGroupStatement: {
          vendorName: 'AWS',
          name,
          ...(ruleActionOverrides ? { ruleActionOverrides } : {}),
        },
      },
      visibilityConfig: visibility(name),
    });
    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      name: props.name,
      scope: props.scope,
      defaultAction: { allow: {} },
      visibilityConfig: visibility(props.name),
      rules: [
        {
          name: 'RatePerIp',
          priority: 0,
          action: { block: {} },
          statement: { rateBasedStatement: { limit: props.ratePer5Minutes, aggregateKeyType: 'IP' } },
          visibilityConfig: visibility('RatePerIp'),
        },
        managed(1, 'AWSManagedRulesAmazonIpReputationList'),
        managed(2, 'AWSManagedRulesCommonRuleSet', [
          { name: 'SizeRestrictions_BODY', actionToUse: { count: {} } },
        ]),
        managed(3, 'AWSManagedRulesKnownBadInputsRuleSet'),
      ],
    });
  }

  get arn(): string {
    return this.webAcl.attrArn;
  }
}

/**
 * A CloudFront distribution is put behind the stage's `cloudFrontWebAclArn` (the EdgeWaf stack's ACL,
 * which must live in us-east-1). Until the stage names one, say so where cdk-nag looks.
 */
export function acknowledgeEdgeWafPending(distribution: IConstruct, webAclId: string | undefined): void {
  if (webAclId) return;
  Validations.of(distribution).acknowledge({
    id: 'AwsSolutions-CFR2',
    reason:
      'A CloudFront web ACL can only exist in us-east-1, so it comes from the VideoCloud-<stage>-EdgeWaf ' +
      "stack: once deployed, its WebAclArn goes into the stage's cloudFrontWebAclArn and this " +
      'distribution is attached on the next deploy.',
  });
}
