import { CustomResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cr from 'aws-cdk-lib/custom-resources';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import { Construct } from 'constructs';
import type { StageConfig } from '../stage-config.ts';
import { AppFunction } from './app-function.ts';
import type { MediaStorage } from './media-storage.ts';
import { acknowledgeEdgeWafPending } from './waf.ts';

export interface MediaDeliveryProps {
  /** Web origins (CORS), retention and log settings come from the stage. */
  readonly stage: StageConfig;
  readonly storage: MediaStorage;
  /** Origins allowed to fetch media cross-origin (hls.js). @default the stage's webOrigins */
  readonly corsOrigins?: readonly string[];
  /** ARN of the CloudFront-scope web ACL from the EdgeWaf stack (us-east-1), once the stage names it. */
  readonly webAclId?: string;
}

/** Segments, init segments and posters never change under a key: cache them for a year. */
const IMMUTABLE_PATTERNS = ['*.m4s', '*.mp4', '*.ts', '*.jpg'];
/** Playlists: short-lived, so a re-published video (same id) is seen within a minute. */
const PLAYLIST_PATTERNS = ['*.m3u8'];

/**
 * The CDN in front of the media bucket. CloudFront reads the private bucket through Origin Access
 * Control (no public bucket, no OAI), viewers must use HTTPS, and every behavior requires a CloudFront
 * signed URL from the key group: lambdas/adapters/playback.ts signs a custom policy over
 * `videos/{id}/*` for every ready video, short-lived for private ones and long-lived for public and
 * unlisted ones, so nothing is served unsigned and media cannot be found by guessing paths.
 *
 * The signing key pair is made at deploy time by a custom resource (lambdas/deploy/cdn-key-pair.ts):
 * the private key goes straight into `signingKey` (Secrets Manager, kept on stages that retain data)
 * and only the public key comes back into the template, as the CloudFront public key of the key group.
 *
 * Access logs: CloudFront standard logging (legacy) into the access-logs bucket under `cdn-media/`.
 * Standard logging v2 (CloudWatch vended logs) would keep that bucket ACL-free, but CloudFront's
 * delivery source can only be created in us-east-1 while these stacks deploy to any region; so the
 * access-logs bucket has ACLs enabled (BucketOwnerPreferred) for CloudFront's log-delivery account only,
 * and stays private, TLS-only and expiring (see MediaStorage).
 */
export class MediaDelivery extends Construct {
  public readonly distribution: cloudfront.Distribution;
  public readonly keyGroup: cloudfront.KeyGroup;
  public readonly publicKey: cloudfront.PublicKey;
  /** The private key (PKCS#8 PEM) playback signs with; its ARN is CDN_PRIVATE_KEY_SECRET_ARN. */
  public readonly signingKey: secretsmanager.Secret;
  /** `https://<distribution domain>`, the MEDIA_BASE_URL of functions that return playback URLs. */
  public readonly baseUrl: string;

  constructor(scope: Construct, id: string, props: MediaDeliveryProps) {
    super(scope, id);
    const { stage, storage } = props;
    const corsOrigins = props.corsOrigins ?? stage.webOrigins;

    this.signingKey = new secretsmanager.Secret(this, 'SigningKey', {
      description: `VideoCloud ${stage.name}: private key (PEM) that signs CloudFront media URLs`,
      removalPolicy: stage.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    Validations.of(this.signingKey).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The value is a CloudFront signing key, not a credential Secrets Manager can rotate: rotating it means ' +
        'adding a new public key to the key group before the old one is removed, which a redeploy with a new ' +
        'key pair resource does; automatic rotation would break every playback URL in circulation.',
    });

    const keyPair = this.keyPairResource(stage);
    this.publicKey = new cloudfront.PublicKey(this, 'PublicKey', {
      encodedKey: keyPair.getAttString('PublicKeyPem'),
      comment: `VideoCloud ${stage.name} media signing key`,
    });
    this.keyGroup = new cloudfront.KeyGroup(this, 'KeyGroup', {
      items: [this.publicKey],
      comment: `VideoCloud ${stage.name}: keys trusted for media signed URLs`,
    });

    const immutable = new cloudfront.CachePolicy(this, 'ImmutableCache', {
      comment: 'VideoCloud media segments and posters: immutable, one year',
      defaultTtl: Duration.days(365),
      minTtl: Duration.days(1),
      maxTtl: Duration.days(365),
      // The signed-URL parameters (Policy, Signature, Key-Pair-Id) are checked by CloudFront and must not
      // split the cache: every viewer of a video shares one cached copy.
      queryStringBehavior: cloudfront.CacheQueryStringBehavior.none(),
      headerBehavior: cloudfront.CacheHeaderBehavior.none(),
      cookieBehavior: cloudfront.CacheCookieBehavior.none(),
      enableAcceptEncodingGzip: false,
      enableAcceptEncodingBrotli: false,
    });
    const playlists = new cloudfront.CachePolicy(this, 'PlaylistCache', {
      comment: 'VideoCloud HLS playlists: short-lived',
      defaultTtl: Duration.seconds(30),
      minTtl: Duration.seconds(0),
      maxTtl: Duration.minutes(1),
      queryStringBehavior: cloudfront.CacheQueryStringBehavior.none(),
      headerBehavior: cloudfront.CacheHeaderBehavior.none(),
      cookieBehavior: cloudfront.CacheCookieBehavior.none(),
      enableAcceptEncodingGzip: true,
      enableAcceptEncodingBrotli: true,
    });

    const responseHeaders = new cloudfront.ResponseHeadersPolicy(this, 'ResponseHeaders', {
      comment: 'VideoCloud media: security headers, CORS for the web origins',
      securityHeadersBehavior: {
        contentTypeOptions: { override: true },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(365),
          includeSubdomains: true,
          override: true,
        },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
        contentSecurityPolicy: { contentSecurityPolicy: "default-src 'none'", override: true },
      },
      // hls.js fetches playlists and segments with XHR/fetch from the web app's origin. No origins
      // configured means no cross-origin player yet (CloudFront refuses an empty allow-list).
      corsBehavior:
        corsOrigins.length > 0
          ? {
              accessControlAllowOrigins: [...corsOrigins],
              accessControlAllowMethods: ['GET', 'HEAD', 'OPTIONS'],
              accessControlAllowHeaders: ['Range'],
              accessControlExposeHeaders: ['Content-Length', 'Content-Range'],
              accessControlAllowCredentials: false,
              accessControlMaxAge: Duration.minutes(10),
              originOverride: true,
            }
          : undefined,
    });

    const origin = origins.S3BucketOrigin.withOriginAccessControl(storage.mediaBucket, {
      originAccessLevels: [cloudfront.AccessLevel.READ],
    });
    const behavior = (
      cachePolicy: cloudfront.ICachePolicy,
      compress: boolean,
    ): cloudfront.BehaviorOptions => ({
      origin,
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
      cachedMethods: cloudfront.CachedMethods.CACHE_GET_HEAD_OPTIONS,
      cachePolicy,
      responseHeadersPolicy: responseHeaders,
      trustedKeyGroups: [this.keyGroup],
      compress,
    });
    const additionalBehaviors: Record<string, cloudfront.BehaviorOptions> = {};
    for (const pattern of PLAYLIST_PATTERNS) additionalBehaviors[pattern] = behavior(playlists, true);
    for (const pattern of IMMUTABLE_PATTERNS) additionalBehaviors[pattern] = behavior(immutable, false);

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: `VideoCloud ${stage.name} media (HLS, posters)`,
      // Anything else under the bucket (there is nothing else today) is signed and short-lived too.
      defaultBehavior: behavior(playlists, true),
      additionalBehaviors,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      enableIpv6: true,
      enableLogging: true,
      logBucket: storage.accessLogsBucket,
      logFilePrefix: 'cdn-media/',
      webAclId: props.webAclId,
    });
    this.baseUrl = `https://${this.distribution.distributionDomainName}`;

    acknowledgeEdgeWafPending(this.distribution, props.webAclId);
    Validations.of(this.distribution).acknowledge(
      {
        id: 'AwsSolutions-CFR1',
        reason:
          'VideoCloud is a general-purpose video host for viewers anywhere; nothing in its content or terms ' +
          'calls for geo restriction. A deployment that needs it can add it on the distribution.',
      },
      {
        id: 'AwsSolutions-CFR4',
        reason:
          'No custom domain yet, so the distribution uses the default *.cloudfront.net certificate, with which ' +
          'CloudFront does not allow choosing the minimum TLS version; viewers are HTTPS-only regardless.',
      },
    );
  }

  /** The deploy-time key pair: Provider framework around lambdas/deploy/cdn-key-pair.ts. */
  private keyPairResource(stage: StageConfig): CustomResource {
    const handler = new AppFunction(this, 'KeyPairFn', {
      entry: 'lambdas/deploy/cdn-key-pair.ts',
      stage,
      description: 'Generates the CloudFront signing key pair at deploy time (custom resource)',
      memoryMb: 256,
      timeout: Duration.seconds(60),
    });
    // Writing the private key is the only thing it may do.
    handler.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['secretsmanager:PutSecretValue'],
        resources: [this.signingKey.secretArn],
      }),
    );

    const providerLogs = new logs.LogGroup(this, 'KeyPairProviderLogs', {
      retention: stage.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const provider = new cr.Provider(this, 'KeyPairProvider', {
      onEventHandler: handler.function,
      logGroup: providerLogs,
    });
    Validations.of(provider).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason:
          "The Provider framework's own function (aws-cdk-lib custom-resources) gets the basic execution " +
          'policy from CDK; it only relays CloudFormation events to the key-pair handler during deployments.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::${flattenCfnReference(Stack.of(this).resolve(handler.function.functionArn))}:*]`,
        reason:
          'The Provider framework may invoke every version of the key-pair handler (lambda:InvokeFunction on ' +
          '<function arn>:*), and nothing else; CDK generates this statement.',
      },
      {
        id: 'AwsSolutions-L1',
        reason:
          'The Provider framework function runtime is chosen by aws-cdk-lib and updated with it; it runs only ' +
          'during deployments.',
      },
    );

    return new CustomResource(this, 'KeyPair', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::CloudFrontKeyPair',
      properties: { SecretArn: this.signingKey.secretArn },
    });
  }
}
