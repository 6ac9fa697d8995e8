import { CustomResource, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { playbackGateSource } from '../../lambdas/edge/playback-gate.ts';
import { nagResource } from '../nag.ts';
import type { StageConfig } from '../stage-config.ts';
import { AppFunction } from './app-function.ts';
import type { MediaStorage } from './media-storage.ts';
import { acknowledgeEdgeWafPending } from './waf.ts';

/** What writing into the KeyValueStore takes: its ETag (describe), the current values, and the write. */
const KVS_WRITE_ACTIONS = [
  'cloudfront-keyvaluestore:DescribeKeyValueStore',
  'cloudfront-keyvaluestore:GetKey',
  'cloudfront-keyvaluestore:UpdateKeys',
] as const;

export interface MediaDeliveryProps {
  /** Embed origins (CORS), retention and log settings come from the stage. */
  readonly stage: StageConfig;
  readonly storage: MediaStorage;
  /** Origins always allowed to play media cross-origin (the deployed web app), besides the stage's embedOrigins. */
  readonly webOrigins?: readonly string[];
  /** ARN of the CloudFront-scope web ACL from the EdgeWaf stack (us-east-1), once the stage names it. */
  readonly webAclId?: string;
}

/** Segments, init segments, MP4s and images never change under a key: cache them for a year. */
const IMMUTABLE_PATTERNS = ['*.m4s', '*.mp4', '*.jpg'];
/** Playlists and captions: short-lived, so a re-published master (a caption added) is seen within a minute. */
const PLAYLIST_PATTERNS = ['*.m3u8', '*.vtt'];

/**
 * The CDN in front of the media bucket, one construct for how media is delivered: CloudFront reads the
 * private bucket through Origin Access Control (no public bucket, no OAI), viewers must use HTTPS, and
 * every request passes the playback gate, a CloudFront Function (lambdas/edge/playback-gate.js) on
 * viewer request. The gate checks the playback token in the path (`/t/<token>/videos/<id>/...`, minted
 * by lambdas/adapters/playback.ts) against the signing key and the video's revocation epoch in a
 * CloudFront KeyValueStore, refuses every path outside that video, and strips the token, so the cache key
 * and the origin request are the plain object path and every viewer of a video shares one cached copy.
 * Because the token is in the path, relative URIs in playlists carry it: any HLS client plays the URL.
 *
 * The signing key is made at deploy time by a custom resource (lambdas/deploy/playback-key.ts): into
 * `signingKey` (Secrets Manager, for the API) and into the KeyValueStore (for the gate); nothing secret
 * appears in the template. Revocations reach the store through the outbox and the edge-sync consumer.
 *
 * Access logs: CloudFront standard logging (legacy) into the access-logs bucket under `cdn-media/`.
 * Standard logging v2 (CloudWatch vended logs) would keep that bucket ACL-free, but CloudFront's
 * delivery source can only be created in us-east-1 while these stacks deploy to any region; so the
 * access-logs bucket has ACLs enabled (BucketOwnerPreferred) for CloudFront's log-delivery account only,
 * and stays private, TLS-only and expiring (see MediaStorage).
 */
export class MediaDelivery extends Construct {
  public readonly distribution: cloudfront.Distribution;
  /** Signing keys (`key:<kid>`) and revocations (`rev:<video id>`), read by the gate at every edge. */
  public readonly keyValueStore: cloudfront.KeyValueStore;
  public readonly gate: cloudfront.Function;
  /** `{"kid","secret"}` playback tokens are signed with; its ARN is PLAYBACK_KEY_SECRET_ARN. */
  public readonly signingKey: secretsmanager.Secret;
  /** `https://<distribution domain>`, the MEDIA_BASE_URL of functions that return playback URLs. */
  public readonly baseUrl: string;
  /** Origins whose pages may play the media (CORS). */
  public readonly embedOrigins: readonly string[];

  constructor(scope: Construct, id: string, props: MediaDeliveryProps) {
    super(scope, id);
    const { stage, storage } = props;
    this.embedOrigins = stage.embedOrigins.includes('*')
      ? ['*']
      : [...new Set([...stage.embedOrigins, ...(props.webOrigins ?? [])])];

    this.signingKey = new secretsmanager.Secret(this, 'PlaybackKey', {
      description: `VideoCloud ${stage.name}: the key playback tokens are signed with ({"kid","secret"})`,
      removalPolicy: stage.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    Validations.of(this.signingKey).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The value is the HMAC key of playback tokens, which public URLs carry for as long as the video stays ' +
        'public: rotating it means adding a second key to the KeyValueStore before the old one goes, which ' +
        'the gate supports (key ids in tokens); automatic rotation would break every shared playback URL.',
    });

    this.keyValueStore = new cloudfront.KeyValueStore(this, 'Store', {
      comment: `VideoCloud ${stage.name}: playback signing keys and revocations`,
    });
    this.gate = new cloudfront.Function(this, 'PlaybackGate', {
      comment: `VideoCloud ${stage.name}: playback token check on every media request`,
      code: cloudfront.FunctionCode.fromInline(playbackGateSource({ embedOrigins: this.embedOrigins })),
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      keyValueStore: this.keyValueStore,
    });
    const keyResource = this.playbackKeyResource(stage);

    const immutable = new cloudfront.CachePolicy(this, 'ImmutableCache', {
      comment: 'VideoCloud media segments and images: immutable, one year',
      defaultTtl: Duration.days(365),
      minTtl: Duration.days(1),
      maxTtl: Duration.days(365),
      // The gate strips the token before the cache is asked: every viewer of a video shares one copy.
      queryStringBehavior: cloudfront.CacheQueryStringBehavior.none(),
      headerBehavior: cloudfront.CacheHeaderBehavior.none(),
      cookieBehavior: cloudfront.CacheCookieBehavior.none(),
      enableAcceptEncodingGzip: false,
      enableAcceptEncodingBrotli: false,
    });
    const playlists = new cloudfront.CachePolicy(this, 'PlaylistCache', {
      comment: 'VideoCloud HLS playlists and captions: short-lived',
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
      comment: 'VideoCloud media: security headers, CORS for embedding players',
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
      // hls.js, Shaka and video.js fetch playlists and segments with XHR/fetch from the embedding page.
      corsBehavior: {
        accessControlAllowOrigins: [...this.embedOrigins],
        accessControlAllowMethods: ['GET', 'HEAD', 'OPTIONS'],
        accessControlAllowHeaders: ['Range'],
        accessControlExposeHeaders: ['Content-Length', 'Content-Range'],
        accessControlAllowCredentials: false,
        accessControlMaxAge: Duration.minutes(10),
        originOverride: true,
      },
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
      functionAssociations: [{ function: this.gate, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST }],
      compress,
    });
    const additionalBehaviors: Record<string, cloudfront.BehaviorOptions> = {};
    for (const pattern of PLAYLIST_PATTERNS) additionalBehaviors[pattern] = behavior(playlists, true);
    for (const pattern of IMMUTABLE_PATTERNS) additionalBehaviors[pattern] = behavior(immutable, false);

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: `VideoCloud ${stage.name} media (HLS, posters)`,
      // Anything else under the bucket passes the same gate and is short-lived too.
      defaultBehavior: behavior(playlists, true),
      additionalBehaviors,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      enableIpv6: true,
      enableLogging: true,
      logBucket: storage.accessLogsBucket,
      logFilePrefix: 'cdn-media/',
      webAclId: props.webAclId,
    });
    // Viewers are let in only once the gate can check their tokens.
    this.distribution.node.addDependency(keyResource);
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

  /** Lets a function write revocations into the KeyValueStore (EDGE_KVS_ARN). */
  public allowEdgeWrites(fn: AppFunction): void {
    fn.role.addToPolicy(
      new iam.PolicyStatement({
        actions: [...KVS_WRITE_ACTIONS],
        resources: [this.keyValueStore.keyValueStoreArn],
      }),
    );
    fn.addEnvironment({ EDGE_KVS_ARN: this.keyValueStore.keyValueStoreArn });
  }

  /** The deploy-time signing key: Provider framework around lambdas/deploy/playback-key.ts. */
  private playbackKeyResource(stage: StageConfig): CustomResource {
    const handler = new AppFunction(this, 'PlaybackKeyFn', {
      entry: 'lambdas/deploy/playback-key.ts',
      stage,
      description: 'Generates the playback signing key at deploy time (custom resource)',
      memoryMb: 256,
      timeout: Duration.seconds(60),
    });
    // Writing the key (and reading it back on an update) into the secret and the store is all it may do.
    handler.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['secretsmanager:PutSecretValue', 'secretsmanager:GetSecretValue'],
        resources: [this.signingKey.secretArn],
      }),
    );
    handler.role.addToPolicy(
      new iam.PolicyStatement({
        actions: [...KVS_WRITE_ACTIONS],
        resources: [this.keyValueStore.keyValueStoreArn],
      }),
    );

    const providerLogs = new logs.LogGroup(this, 'PlaybackKeyProviderLogs', {
      retention: stage.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const provider = new cr.Provider(this, 'PlaybackKeyProvider', {
      onEventHandler: handler.function,
      logGroup: providerLogs,
    });
    Validations.of(provider).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason:
          "The Provider framework's own function (aws-cdk-lib custom-resources) gets the basic execution " +
          'policy from CDK; it only relays CloudFormation events to the playback-key handler during deployments.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::${nagResource(this, handler.function.functionArn)}:*]`,
        reason:
          'The Provider framework may invoke every version of the playback-key handler (lambda:InvokeFunction on ' +
          '<function arn>:*), and nothing else; CDK generates this statement.',
      },
      {
        id: 'AwsSolutions-L1',
        reason:
          'The Provider framework function runtime is chosen by aws-cdk-lib and updated with it; it runs only ' +
          'during deployments.',
      },
    );

    return new CustomResource(this, 'SigningKeyResource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::PlaybackKey',
      properties: { SecretArn: this.signingKey.secretArn, KvsArn: this.keyValueStore.keyValueStoreArn },
    });
  }
}
