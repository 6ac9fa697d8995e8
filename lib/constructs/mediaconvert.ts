import { Duration, Stack, Tags, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { JOB_METADATA_STAGE, objectKeys } from '../../lambdas/shared/resources.ts';
import { nagResource } from '../nag.ts';
import type { StageConfig } from '../stage-config.ts';
import { AppFunction } from './app-function.ts';
import type { Database } from './database.ts';
import { allowEventOutbox } from './function-access.ts';
import { SCANNED_ONLY_PRINCIPAL_TAG } from './malware-protection.ts';
import type { MediaStorage } from './media-storage.ts';
import type { Network } from './network.ts';
import type { Queues } from './queues.ts';

export interface MediaConvertIntegrationProps {
  readonly stage: StageConfig;
  readonly queues: Queues;
  readonly environment: Readonly<Record<string, string>>;
  readonly network: Network;
  readonly database: Database;
  readonly storage: MediaStorage;
}

/**
 * The MediaConvert path for long sources: the role MediaConvert assumes (read the uploaded sources,
 * write the media prefix, nothing else), and the rule that sends this stage's job state changes
 * (COMPLETE / ERROR) to the status handler (lambdas/events/mediaconvert-status.ts), which marks the
 * video ready or failed. Jobs carry UserMetadata `{videoId, videocloudStage}` (JOB_METADATA_STAGE, set
 * from VIDEOCLOUD_STAGE); the rule matches it to this stage's name, so several stages in one account
 * and region never settle each other's jobs.
 */
export class MediaConvertIntegration extends Construct {
  public readonly role: iam.Role;
  public readonly rule: events.Rule;
  public readonly statusFunction: AppFunction;
  /** Events the status handler could not take after EventBridge's retries. */
  public readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: MediaConvertIntegrationProps) {
    super(scope, id);
    const { stage, storage } = props;
    const stack = Stack.of(this);

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('mediaconvert.amazonaws.com', {
        // Confused-deputy guard: only jobs of this account may use the role.
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: `MediaConvert jobs of VideoCloud ${stage.name}: read sources, write HLS media`,
    });
    const sources = `${importedArn(this, storage.uploadsBucket)}/${objectKeys.uploadsPrefix}*`;
    const media = `${importedArn(this, storage.mediaBucket)}/${objectKeys.mediaPrefix('*').slice(0, -1)}`;
    this.role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [sources] }));
    // MediaConvert too reads only sources GuardDuty tagged clean (uploads bucket policy).
    Tags.of(this.role).add(SCANNED_ONLY_PRINCIPAL_TAG, 'true');
    this.role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [media] }));
    Validations.of(this.role).acknowledge(
      {
        id: `AwsSolutions-IAM5[Resource::${nagResource(this, sources)}]`,
        reason:
          'MediaConvert reads the one source object of each job; source keys are server-generated per video ' +
          `under ${objectKeys.uploadsPrefix}, so the grant is GetObject on that prefix of the uploads bucket only.`,
      },
      {
        id: `AwsSolutions-IAM5[Resource::${nagResource(this, media)}]`,
        reason:
          'MediaConvert writes segments, playlists and posters named by the job under videos/{id}/; the grant is ' +
          'PutObject on the videos/ prefix of the media bucket only.',
      },
    );

    this.statusFunction = new AppFunction(this, 'FnStatus', {
      entry: 'lambdas/events/mediaconvert-status.ts',
      stage,
      description: `VideoCloud ${stage.name}: MediaConvert job state changes`,
      memoryMb: 512,
      timeout: Duration.seconds(30),
      environment: { ...props.environment },
      network: props.network,
    });
    this.statusFunction.useDatabase(props.database);
    // Removes the outputs of a video deleted while its job ran.
    this.statusFunction.useBucket(storage.mediaBucket, 'MEDIA_BUCKET', ['list', 'delete']);
    // video.ready / video.failed leave through the outbox right after the commit.
    allowEventOutbox(this.statusFunction, props.queues);

    this.deadLetterQueue = new sqs.Queue(this, 'StatusDlq', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself a dead-letter queue: the EventBridge target DLQ of the MediaConvert status rule ' +
        '(cdk-nag only recognizes queues named in another queue redrive policy), and an alarm watches it.',
    });

    this.rule = new events.Rule(this, 'JobStateChange', {
      description: `VideoCloud ${stage.name}: MediaConvert jobs that completed or failed`,
      eventPattern: {
        source: ['aws.mediaconvert'],
        detailType: ['MediaConvert Job State Change'],
        detail: { status: ['COMPLETE', 'ERROR'], userMetadata: { [JOB_METADATA_STAGE]: [stage.name] } },
      },
      targets: [
        new eventTargets.LambdaFunction(this.statusFunction.function, {
          deadLetterQueue: this.deadLetterQueue,
          maxEventAge: Duration.hours(24),
          retryAttempts: 20,
        }),
      ],
    });
  }

  /**
   * Lets `fn` start jobs that run as this role: mediaconvert:CreateJob, and iam:PassRole of this role to
   * MediaConvert only. Sets MEDIACONVERT_ROLE_ARN: its presence sends sources longer than
   * FFMPEG_MAX_SECONDS (the stage's `mediaConvertAboveSeconds`) to MediaConvert.
   */
  public allowCreateJobs(fn: AppFunction): void {
    const stack = Stack.of(this);
    const jobs = stack.formatArn({ service: 'mediaconvert', resource: 'jobs', resourceName: '*' });
    const defaultQueue = stack.formatArn({
      service: 'mediaconvert',
      resource: 'queues',
      resourceName: 'Default',
    });
    fn.role.addToPolicy(
      new iam.PolicyStatement({ actions: ['mediaconvert:CreateJob'], resources: [jobs, defaultQueue] }),
    );
    fn.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [this.role.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'mediaconvert.amazonaws.com' } },
      }),
    );
    Validations.of(fn).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagResource(fn, jobs)}]`,
      reason:
        'MediaConvert names a job by an id it generates at CreateJob, so the job resource cannot be known in ' +
        'advance; the action is CreateJob only, in this account and region, on the Default queue.',
    });
    fn.addEnvironment({ MEDIACONVERT_ROLE_ARN: this.role.roleArn });
  }
}

/** A bucket's ARN as this stack sees it (an import when the bucket lives in another stack). */
function importedArn(scope: Construct, bucket: s3.IBucket): string {
  return Stack.of(bucket) === Stack.of(scope)
    ? bucket.bucketArn
    : Stack.of(bucket).exportValue(bucket.bucketArn);
}
