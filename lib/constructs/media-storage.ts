import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { uploadsBucketCors } from '../../lambdas/shared/resources.ts';
import type { StageConfig } from '../stage-config.ts';

export interface MediaStorageProps {
  /** Web origins (CORS), retention and removal policy come from the stage. */
  readonly stage: StageConfig;
}

/**
 * The two media buckets and the bucket that receives their access logs.
 * - uploads: browsers PUT multipart parts straight here with presigned URLs; the pipeline reads sources.
 * - media: HLS renditions and posters, served later through CloudFront with OAC.
 * All three are private, TLS-only, SSE-S3 encrypted and bucket-owner-enforced (no ACLs).
 */
export class MediaStorage extends Construct {
  public readonly uploadsBucket: s3.Bucket;
  public readonly mediaBucket: s3.Bucket;
  public readonly accessLogsBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: MediaStorageProps) {
    super(scope, id);
    const { stage } = props;
    const removal = stage.retainData
      ? { removalPolicy: RemovalPolicy.RETAIN }
      : { removalPolicy: RemovalPolicy.DESTROY, autoDeleteObjects: true };
    const secure = {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      encryption: s3.BucketEncryption.S3_MANAGED,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      ...removal,
    } satisfies s3.BucketProps;

    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      ...secure,
      // CloudFront standard logs (MediaDelivery, WebHosting) are written through an ACL grant to
      // CloudFront's log-delivery account, which needs ACLs enabled; the bucket owner still owns every
      // object and public access stays blocked. S3 server access logs use the bucket policy.
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(stage.logRetentionDays) }],
    });
    Validations.of(this.accessLogsBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This bucket is the server-access-log target of the other buckets; logging it into itself would ' +
        'loop, and it is private, TLS-only and expires its objects after the stage log retention.',
    });

    const cors = uploadsBucketCors(stage.webOrigins);
    this.uploadsBucket = new s3.Bucket(this, 'Uploads', {
      ...secure,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'uploads/',
      // No origins configured means no browser uploads yet; S3 rejects a CORS rule without origins.
      cors:
        cors.allowedOrigins.length > 0
          ? [
              {
                allowedOrigins: cors.allowedOrigins,
                allowedMethods: cors.allowedMethods.map((method) => method as s3.HttpMethods),
                allowedHeaders: cors.allowedHeaders,
                exposedHeaders: cors.exposedHeaders,
                maxAge: cors.maxAgeSeconds,
              },
            ]
          : undefined,
      lifecycleRules: [
        // Parts of abandoned multipart uploads are invisible in listings but billed until aborted.
        { id: 'abort-incomplete-multipart', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });

    this.mediaBucket = new s3.Bucket(this, 'Media', {
      ...secure,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'media/',
      lifecycleRules: [
        { id: 'abort-incomplete-multipart', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });
  }

  /** Lets browsers on `origin` PUT presigned upload parts (the same CORS rule as the stage's webOrigins). */
  public allowBrowserUploadsFrom(origin: string): void {
    const cors = uploadsBucketCors([origin]);
    this.uploadsBucket.addCorsRule({
      allowedOrigins: cors.allowedOrigins,
      allowedMethods: cors.allowedMethods.map((method) => method as s3.HttpMethods),
      allowedHeaders: cors.allowedHeaders,
      exposedHeaders: cors.exposedHeaders,
      maxAge: cors.maxAgeSeconds,
    });
  }
}
