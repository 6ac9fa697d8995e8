import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  Annotations,
  DefaultStackSynthesizer,
  Duration,
  RemovalPolicy,
  Stack,
  Validations,
} from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import type { CognitoWebAuth, WebConfig } from '../../lambdas/shared/web-config.ts';
import { webContentSecurityPolicy } from '../../lambdas/shared/web-config.ts';
import { nagResource } from '../nag.ts';
import type { StageConfig } from '../stage-config.ts';
import { REPO_ROOT } from './app-function.ts';
import type { MediaStorage } from './media-storage.ts';
import { acknowledgeEdgeWafPending } from './waf.ts';

/** What `npm run build:web` produces; deployed as is. */
export const WEB_DIST_DIR = join(REPO_ROOT, 'web', 'dist');

export interface WebHostingProps {
  readonly stage: StageConfig;
  /** The access-logs bucket receives the distribution's standard logs under `cdn-web/`. */
  readonly storage: MediaStorage;
  /** ARN of the CloudFront-scope web ACL from the EdgeWaf stack (us-east-1), once the stage names it. */
  readonly webAclId?: string;
}

/**
 * Where the browser client is served from: a private bucket behind CloudFront (OAC, HTTPS, index.html
 * as root object, and every unknown path answered with /index.html so the client's routes survive a
 * reload). Lives in the stateful stack so its origin (`https://<domain>`) can be a callback URL of the
 * Cognito web client and a CORS origin of the uploads bucket and the media CDN without a cross-stack
 * cycle; the files (and config.json, which needs the API URL) are deployed from the stateless stack by
 * `WebDeployment`.
 */
export class WebHosting extends Construct {
  public readonly bucket: s3.Bucket;
  public readonly distribution: cloudfront.Distribution;
  /** `https://<distribution domain>`: the web app's origin. */
  public readonly origin: string;

  constructor(scope: Construct, id: string, props: WebHostingProps) {
    super(scope, id);
    const { stage, storage } = props;
    // Build output only: everything in it can be redeployed from the repository, so it never outlives the stack.
    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      encryption: s3.BucketEncryption.S3_MANAGED,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: storage.accessLogsBucket,
      serverAccessLogsPrefix: 'web/',
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });

    const spaFallback = (httpStatus: number): cloudfront.ErrorResponse => ({
      httpStatus,
      responseHttpStatus: 200,
      responsePagePath: '/index.html',
      ttl: Duration.seconds(10),
    });
    // AWS's managed security headers plus the client's own CSP. Outside origins by domain family: the
    // API (execute-api), presigned part PUTs (S3), sign-in (Cognito) and the media CDN (CloudFront);
    // their exact names only exist at deploy time, in other stacks.
    const headers = new cloudfront.ResponseHeadersPolicy(this, 'Headers', {
      comment: `VideoCloud ${stage.name} web app security headers`,
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          contentSecurityPolicy: webContentSecurityPolicy({
            connect: ['https://*.amazonaws.com', 'https://*.amazoncognito.com', 'https://*.cloudfront.net'],
            media: ['https://*.cloudfront.net'],
          }),
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: {
          referrerPolicy: cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
          override: true,
        },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(365),
          includeSubdomains: true,
          override: true,
        },
        xssProtection: { protection: true, modeBlock: true, override: true },
      },
    });
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: `VideoCloud ${stage.name} web app`,
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket, {
          originAccessLevels: [cloudfront.AccessLevel.READ],
        }),
        // People type addresses without a scheme; send them to HTTPS rather than refuse them.
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: headers,
        compress: true,
      },
      // S3 answers 403 for a missing key when the reader may not list: both mean "a client-side route".
      errorResponses: [spaFallback(403), spaFallback(404)],
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      enableLogging: true,
      logBucket: storage.accessLogsBucket,
      logFilePrefix: 'cdn-web/',
      webAclId: props.webAclId,
    });
    this.origin = `https://${this.distribution.distributionDomainName}`;

    acknowledgeEdgeWafPending(this.distribution, props.webAclId);
    Validations.of(this.distribution).acknowledge(
      {
        id: 'AwsSolutions-CFR1',
        reason:
          'The web client of a general-purpose video host is for users anywhere; nothing calls for geo ' +
          'restriction. A deployment that needs it can add it on the distribution.',
      },
      {
        id: 'AwsSolutions-CFR4',
        reason:
          'No custom domain yet, so the distribution uses the default *.cloudfront.net certificate, with which ' +
          'CloudFront does not allow choosing the minimum TLS version; viewers are redirected to HTTPS.',
      },
    );
  }
}

export interface WebDeploymentProps {
  readonly hosting: WebHosting;
  /** Base URL of the REST API stage (`restApi.url`). */
  readonly apiBaseUrl: string;
  readonly auth: Omit<CognitoWebAuth, 'mode'>;
  /** @default web/dist */
  readonly distDir?: string;
}

/**
 * Deploys the built client (web/dist) and a generated `/config.json` (lambdas/shared/web-config.ts,
 * `auth.mode: "cognito"`) to the web bucket, then invalidates the distribution. When web/dist has no
 * index.html (a fresh clone that has not run `npm run build:web`), the deployment is skipped with a
 * warning so synth still works; CI builds the client before synthesizing.
 */
export class WebDeployment extends Construct {
  public readonly deployment?: s3deploy.BucketDeployment;
  public readonly config: WebConfig;

  constructor(scope: Construct, id: string, props: WebDeploymentProps) {
    super(scope, id);
    const distDir = props.distDir ?? WEB_DIST_DIR;
    this.config = {
      apiBaseUrl: props.apiBaseUrl,
      auth: { mode: 'cognito', ...props.auth },
    };
    if (!existsSync(join(distDir, 'index.html'))) {
      Annotations.of(this).addWarningV2(
        'videocloud:web-not-built',
        `${distDir}/index.html does not exist, so the web client is not deployed. Run \`npm run build:web\` ` +
          'before `cdk synth`/`cdk deploy` to include it.',
      );
      return;
    }
    this.deployment = new s3deploy.BucketDeployment(this, 'Files', {
      sources: [s3deploy.Source.asset(distDir), s3deploy.Source.jsonData('config.json', this.config)],
      destinationBucket: props.hosting.bucket,
      distribution: props.hosting.distribution,
      distributionPaths: ['/*'],
      // Revalidate on every load; CloudFront serves from its cache and asks S3 only when the ETag changed.
      cacheControl: [s3deploy.CacheControl.fromString('public, max-age=0, must-revalidate')],
      memoryLimit: 512,
      prune: true,
    });
    const handler = Stack.of(this)
      .node.findAll()
      .find((c) => c.node.id.startsWith('Custom::CDKBucketDeployment'));
    if (handler) {
      Validations.of(handler).acknowledge(
        {
          id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
          reason:
            "aws-s3-deployment's BucketDeployment handler gets the basic execution policy from CDK; it runs " +
            'only during deployments, to copy the built web client into the web bucket.',
        },
        ...bucketDeploymentWildcards(this, props.hosting.bucket).map((id) => ({
          id: `AwsSolutions-IAM5[${id}]`,
          reason:
            'BucketDeployment (generated by CDK) copies every object of its source asset from the CDK asset ' +
            'bucket into the web bucket, prunes stale ones and invalidates the web distribution: read ' +
            'wildcards on the asset bucket objects, write and delete wildcards on the web bucket objects.',
        })),
        {
          id: 'AwsSolutions-L1',
          reason:
            "The BucketDeployment handler's runtime is chosen by aws-cdk-lib and updated with it; it runs only " +
            'during deployments.',
        },
      );
    }
  }
}

/** The IAM5 findings of the BucketDeployment handler's policy (CDK-generated action and object wildcards). */
function bucketDeploymentWildcards(scope: Construct, bucket: s3.IBucket): string[] {
  const stack = Stack.of(scope);
  const bucketArn =
    Stack.of(bucket) === stack ? bucket.bucketArn : Stack.of(bucket).exportValue(bucket.bucketArn);
  const qualifier = DefaultStackSynthesizer.DEFAULT_QUALIFIER;
  return [
    ...['s3:GetBucket*', 's3:GetObject*', 's3:List*', 's3:Abort*', 's3:DeleteObject*'].map(
      (a) => `Action::${a}`,
    ),
    `Resource::arn:<AWS::Partition>:s3:::cdk-${qualifier}-assets-<AWS::AccountId>-<AWS::Region>/*`,
    `Resource::${nagResource(stack, `${bucketArn}/*`)}`,
    // cloudfront:GetInvalidation/CreateInvalidation, which CDK grants on "*".
    'Resource::*',
  ];
}
