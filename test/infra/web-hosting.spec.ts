import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { parseWebConfig } from '../../lambdas/shared/web-config.ts';
import { REPO_ROOT } from '../../lib/constructs/app-function.ts';
import { MediaStorage } from '../../lib/constructs/media-storage.ts';
import { WebDeployment, WebHosting } from '../../lib/constructs/web-hosting.ts';
import { buildStage } from './app.ts';

describe.each(['dev', 'prod'] as const)('web hosting (%s)', (stageName) => {
  const { stateful, statefulTemplate: template } = buildStage(stageName);
  const id = (c: { node: { defaultChild?: unknown } }) =>
    Stack.of(stateful).getLogicalId(c.node.defaultChild as CfnFunction);
  const config = template.findResources('AWS::CloudFront::Distribution')[id(stateful.web.distribution)]!
    .Properties.DistributionConfig;

  test("the client's own Content-Security-Policy, HSTS and frame denial on every response", () => {
    const policyId = config.DefaultCacheBehavior.ResponseHeadersPolicyId.Ref as string;
    const headers = template.findResources('AWS::CloudFront::ResponseHeadersPolicy')[policyId]!.Properties
      .ResponseHeadersPolicyConfig.SecurityHeadersConfig;
    const csp = headers.ContentSecurityPolicy.ContentSecurityPolicy as string;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).toMatch(/connect-src 'self' .*https:\/\/\*\.amazonaws\.com/);
    expect(csp).not.toMatch(/unsafe-(inline|eval)/);
    expect(headers.FrameOptions.FrameOption).toBe('DENY');
    expect(headers.StrictTransportSecurity.AccessControlMaxAgeSec).toBe(31536000);
  });

  test('a private, TLS-only web bucket behind CloudFront with OAC, index.html and the SPA fallback', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: Match.objectLike({
        BlockPublicAcls: true,
        RestrictPublicBuckets: true,
      }),
      LoggingConfiguration: { DestinationBucketName: Match.anyValue(), LogFilePrefix: 'web/' },
    });
    expect(config.DefaultRootObject).toBe('index.html');
    expect(config.Origins[0].OriginAccessControlId).toBeDefined();
    expect(config.DefaultCacheBehavior.ViewerProtocolPolicy).toBe('redirect-to-https');
    expect(config.CustomErrorResponses).toEqual([
      expect.objectContaining({ ErrorCode: 403, ResponseCode: 200, ResponsePagePath: '/index.html' }),
      expect.objectContaining({ ErrorCode: 404, ResponseCode: 200, ResponsePagePath: '/index.html' }),
    ]);
    expect(config.Logging.Prefix).toBe('cdn-web/');
  });
});

describe('web deployment', () => {
  function deploy(distDir: string) {
    const app = new App({
      context: { 'aws:cdk:bundling-stacks': [] },
      builtinCloudFormationValidation: false,
    });
    const stateful = new Stack(app, 'Stateful');
    const stage = buildStage('dev').stage;
    const hosting = new WebHosting(stateful, 'Web', {
      stage,
      storage: new MediaStorage(stateful, 'Storage', { stage }),
    });
    const stack = new Stack(app, 'Stateless');
    const deployment = new WebDeployment(stack, 'Web', {
      hosting,
      apiBaseUrl: 'https://api.example.com/dev/',
      auth: {
        domain: 'https://auth.example.com',
        clientId: 'client123',
        scopes: ['openid', 'videocloud/videos:read'],
      },
      distDir,
    });
    return { stack, deployment };
  }

  test('with a built web/dist: the files and config.json go to the web bucket, the distribution is invalidated', () => {
    const { stack, deployment } = deploy(join(REPO_ROOT, 'web'));
    expect(deployment.deployment).toBeDefined();
    const template = Template.fromStack(stack);
    template.hasResourceProperties('Custom::CDKBucketDeployment', {
      DistributionPaths: ['/*'],
      Prune: true,
      DestinationBucketName: { 'Fn::ImportValue': Match.stringLikeRegexp('WebBucket') },
    });
    // Two sources: the built files and the generated config.json.
    const [resource] = Object.values(template.findResources('Custom::CDKBucketDeployment'));
    expect(resource!.Properties.SourceObjectKeys).toHaveLength(2);
    // The config.json shape is the one the web client parses (lambdas/shared/web-config.ts).
    expect(parseWebConfig(deployment.config)).toEqual({
      apiBaseUrl: 'https://api.example.com/dev',
      auth: {
        mode: 'cognito',
        domain: 'https://auth.example.com',
        clientId: 'client123',
        scopes: ['openid', 'videocloud/videos:read'],
      },
    });
  });

  test('without web/dist/index.html: no deployment, a warning, and synth still works', () => {
    const { stack, deployment } = deploy(mkdtempSync(join(tmpdir(), 'no-web-')));
    expect(deployment.deployment).toBeUndefined();
    Template.fromStack(stack).resourceCountIs('Custom::CDKBucketDeployment', 0);
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('npm run build:web'));
  });
});
