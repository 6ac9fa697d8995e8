import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { WebAcl } from './constructs/waf.ts';
import type { StageConfig } from './stage-config.ts';

export interface EdgeWafStackProps extends StackProps {
  readonly stage: StageConfig;
}

/**
 * The web ACL for the CloudFront distributions (media and web client). AWS only accepts a CloudFront
 * web ACL in us-east-1, while the other stacks deploy to any region, so it is a stack of its own:
 * deploy it, put its `WebAclArn` output into the stage's `cloudFrontWebAclArn` in cdk.json, and the
 * next deploy of the stateful stack attaches it to both distributions. (A cross-region reference would
 * tie every stack to one account and region at synth time; the two steps keep synth environment-free.)
 */
export class EdgeWafStack extends Stack {
  public readonly webAcl: WebAcl;

  constructor(scope: Construct, id: string, props: EdgeWafStackProps) {
    super(scope, id, { ...props, env: { ...props.env, region: 'us-east-1' } });
    this.webAcl = new WebAcl(this, 'CdnWaf', {
      scope: 'CLOUDFRONT',
      ratePer5Minutes: props.stage.cdnWafRatePer5Minutes,
      name: `videocloud-${props.stage.name}-cdn`,
    });
    new CfnOutput(this, 'WebAclArn', {
      value: this.webAcl.webAcl.attrArn,
      description: "Set as the stage's cloudFrontWebAclArn in cdk.json to protect both distributions",
    });
  }
}
