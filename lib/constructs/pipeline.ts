import { Duration, RemovalPolicy, Stack, Tags, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as lambdaEvents from 'aws-cdk-lib/aws-lambda-event-sources';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { consumerList, type QueueConsumer } from '../../lambdas/events/consumers.ts';
import { type ScheduledWorker, scheduledWorkerList } from '../../lambdas/events/schedules.ts';
import { QUEUE_URL_VARIABLES } from '../../lambdas/shared/config.ts';
import {
  eventBus,
  JOB_METADATA_STAGE,
  objectKeys,
  outboxQueues,
  outboxTopics,
  queueNames,
  uploadNotifications,
} from '../../lambdas/shared/resources.ts';
import { FfmpegLayer } from '../../layers/ffmpeg/ffmpeg-layer.ts';
import { nagResource } from '../nag.ts';
import type { StageConfig } from '../stage-config.ts';
import { AppFunction, type BucketCapability, pascalCase } from './app-function.ts';
import type { Database } from './database.ts';
import { SCANNED_ONLY_PRINCIPAL_TAG } from './malware-protection.ts';
import type { MediaDelivery } from './media-delivery.ts';
import type { MediaStorage } from './media-storage.ts';
import type { Network } from './network.ts';
import type { QueuePair, Queues } from './queues.ts';
import type { StateTable } from './state-table.ts';

/**
 * Architecture of the functions that run ffmpeg. Graviton like every other function: npm publishes
 * static linux-arm64 builds of ffmpeg and ffprobe (@ffmpeg-installer/linux-arm64,
 * @ffprobe-installer/linux-arm64), and x264/AAC have NEON code paths, at Graviton's lower GB-second price.
 */
export const FFMPEG_ARCHITECTURE = lambda.Architecture.ARM_64;

/** What each consumer (consumers.ts `entry`) may reach. */
interface ConsumerAccess {
  /**
   * Postgres through RDS Proxy, which puts the function in the VPC. @default true. Without it the
   * function runs outside the VPC and can reach public AWS endpoints (the KeyValueStore API).
   */
  readonly database?: boolean;
  /** Writes revocations into the CDN's KeyValueStore (EDGE_KVS_ARN). */
  readonly edgeStore?: boolean;
  readonly uploadsBucket?: readonly BucketCapability[];
  readonly mediaBucket?: readonly BucketCapability[];
  readonly stateTable?: 'read' | 'readwrite';
  /** Queues it sends to, by consumers.ts queue name. */
  readonly sendsTo?: readonly string[];
  /** Starts MediaConvert jobs with the MediaConvert role. */
  readonly mediaConvert?: boolean;
  /** Reads uploaded sources only once GuardDuty tagged them clean (lib/constructs/malware-protection.ts). */
  readonly scannedSourcesOnly?: boolean;
  /** Hands on its own outbox rows right after its commit (video events): send to the webhook-events queue. */
  readonly events?: boolean;
  /** Makes playback URLs (MEDIA_BASE_URL, the signing key's secret), as the API does. */
  readonly playback?: boolean;
  /** May park messages in the dead-letter queue of these queues (by consumers.ts queue name). */
  readonly sendsToDeadLetterOf?: readonly string[];
  /** Puts events on the stage's EventBridge bus (EVENT_BUS_NAME). */
  readonly eventBus?: boolean;
  /**
   * Extra wait for a fuller batch. Only where latency does not matter: a user waits for ingest and
   * transcode, nobody waits for deleted media to disappear.
   */
  readonly maxBatchingWindowSeconds?: number;
}

const CONSUMER_ACCESS: Record<string, ConsumerAccess> = {
  // Probes the source with ranged GETs of its own (s3:GetObject, served to ffprobe by a loopback fence),
  // heads it, keeps Powertools idempotency records in the state table, and hands work to ffmpeg or
  // MediaConvert.
  ingest: {
    // 'tags': reads GuardDuty's scan status before anything else (lambdas/adapters/malware.ts);
    // 'delete': removes a source the scanner flagged or could not scan.
    uploadsBucket: ['read', 'head', 'tags', 'delete'],
    scannedSourcesOnly: true,
    stateTable: 'readwrite',
    sendsTo: ['transcode'],
    mediaConvert: true,
    events: true,
  },
  // Reads the source, writes the ladder; lists and deletes outputs of a video deleted meanwhile.
  transcode: {
    uploadsBucket: ['read'],
    scannedSourcesOnly: true,
    mediaBucket: ['write', 'delete', 'list'],
    events: true,
  },
  // Lists and deletes everything under a deleted video's prefixes in both buckets.
  'media-cleanup': {
    uploadsBucket: ['list', 'delete'],
    mediaBucket: ['list', 'delete'],
    maxBatchingWindowSeconds: 20,
  },
  // Revocations into the KeyValueStore, whose API is on the internet: no VPC, no database.
  'edge-sync': { database: false, edgeStore: true },
  // Reads an uploaded caption file (and deletes it once published or refused); writes the track and the
  // master playlist under the video's prefix, reads the master first, deletes a removed track's files.
  captions: {
    uploadsBucket: ['read', 'head', 'delete'],
    mediaBucket: ['read', 'write', 'delete'],
  },
  // Webhooks. The fan-out reads the outbox and endpoints, makes deliveries, renders playback URLs for
  // ready videos, dispatches signed attempts and passes events on to the bus queue.
  'webhook-fanout': { playback: true, sendsTo: ['webhook-deliveries', 'event-bus'] },
  // The only function that talks to webhook endpoints: on the internet, so outside the VPC, with no
  // database, no secret and no data access; it reports to the results queue and parks failed final
  // attempts in the deliveries DLQ.
  'webhook-sender': {
    database: false,
    sendsTo: ['webhook-results'],
    sendsToDeadLetterOf: ['webhook-deliveries'],
  },
  // Records each result in Postgres and dispatches the next attempt.
  'webhook-recorder': { sendsTo: ['webhook-deliveries'] },
  // PutEvents on the stage's bus: a public AWS API, so outside the VPC, no database.
  'event-bus': { database: false, eventBus: true },
};

/** Environment variable of each queue's URL, by queue name (lambdas/shared/config.ts). */
const QUEUE_URL_VARIABLE: Record<string, string> = Object.fromEntries(
  Object.entries(queueNames).map(([key, name]) => [
    name,
    QUEUE_URL_VARIABLES[key as keyof typeof QUEUE_URL_VARIABLES],
  ]),
);

export interface EventPipelineProps {
  readonly stage: StageConfig;
  /** Configuration every handler validates at cold start (the same set the API functions get). */
  readonly environment: Readonly<Record<string, string>>;
  readonly network: Network;
  readonly database: Database;
  readonly storage: MediaStorage;
  readonly stateTable: StateTable;
  readonly queues: Queues;
  /** The media CDN, whose KeyValueStore edge-sync writes. */
  readonly delivery: MediaDelivery;
}

/**
 * The event pipeline's compute, built from the consumer table (lambdas/events/consumers.ts): one
 * function per queue consumer with its SQS event source (partial batch failures), sizing and, where the
 * consumer says `ffmpeg`, the ffmpeg layer; the MediaConvert path (role, state-change rule, status
 * handler); and alarms on everything that can silently pile up.
 *
 * The S3 -> ingest queue notification is not here: bucket and queue both live in the stateful stack,
 * and a notification created from this stack would make the stateful stack's bucket refer to this one
 * (a cycle). See `UploadNotifications`, which the stateful stack creates.
 */
export class EventPipeline extends Construct {
  /** One function per consumer, keyed by consumers.ts `entry`. */
  public readonly consumers: ReadonlyMap<string, AppFunction>;
  public readonly ffmpegLayer: FfmpegLayer;
  public readonly mediaConvert: MediaConvertIntegration;
  public readonly alarms: PipelineAlarms;
  public readonly scheduled: ScheduledWorkers;
  /** The stage's EventBridge bus `VideoCloud-<stage>`: every domain event, detail-type = event type. */
  public readonly eventBus: events.EventBus;

  constructor(scope: Construct, id: string, props: EventPipelineProps) {
    super(scope, id);
    const { stage, queues } = props;
    this.eventBus = new events.EventBus(this, 'EventBus', {
      eventBusName: eventBus.name(stage.name),
      description: `VideoCloud ${stage.name}: video and upload events (source ${eventBus.source}, detail-type = event type)`,
    });
    this.ffmpegLayer = new FfmpegLayer(this, 'Ffmpeg', { architecture: FFMPEG_ARCHITECTURE });
    this.mediaConvert = new MediaConvertIntegration(this, 'MediaConvert', props);

    const pairs = queues.byQueueName;
    const consumers = new Map<string, AppFunction>();
    for (const consumer of consumerList) {
      const pair = pairs.get(consumer.queue);
      if (!pair)
        throw new Error(`Consumer ${consumer.entry} drains queue ${consumer.queue}, which Queues lacks`);
      consumers.set(consumer.entry, this.consumerFunction(consumer, pair, props));
    }
    this.consumers = consumers;

    this.scheduled = new ScheduledWorkers(this, 'Scheduled', props);

    const transcode = consumers.get('transcode');
    this.alarms = new PipelineAlarms(this, 'Alarms', {
      stage,
      deadLetterQueues: [...pairs.values()].map((pair) => ({
        name: pair.consumer.queue,
        queue: pair.deadLetterQueue,
      })),
      extraDeadLetterQueues: [{ name: 'mediaconvert-status', queue: this.mediaConvert.deadLetterQueue }],
      failingFunctions: [
        ...(transcode ? [{ name: 'transcode', fn: transcode }] : []),
        // Errors here mean attempts that were never reported (the message retries, then the DLQ).
        ...(consumers.get('webhook-sender')
          ? [{ name: 'webhook-sender', fn: consumers.get('webhook-sender')! }]
          : []),
      ],
    });
  }

  private consumerFunction(consumer: QueueConsumer, pair: QueuePair, props: EventPipelineProps): AppFunction {
    const { stage, storage, stateTable, database, network } = props;
    const access = CONSUMER_ACCESS[consumer.entry];
    if (!access) {
      throw new Error(
        `Queue consumer "${consumer.entry}" has no access declaration in lib/constructs/pipeline.ts CONSUMER_ACCESS`,
      );
    }
    const fn = new AppFunction(this, `Fn${pascalCase(consumer.entry)}`, {
      entry: `lambdas/events/${consumer.entry}.ts`,
      stage,
      description: `VideoCloud ${stage.name}: ${consumer.queue} queue consumer`,
      memoryMb: consumer.memoryMb,
      timeout: Duration.seconds(consumer.timeoutSeconds),
      ephemeralStorageMb: consumer.ephemeralStorageMb,
      architecture: consumer.ffmpeg ? FFMPEG_ARCHITECTURE : undefined,
      layers: consumer.ffmpeg ? [this.ffmpegLayer.layer] : undefined,
      environment: { ...props.environment },
      network: access.database === false ? undefined : network,
    });
    if (access.database !== false) fn.useDatabase(database);
    if (access.edgeStore) props.delivery.allowEdgeWrites(fn);
    if (access.uploadsBucket) fn.useBucket(storage.uploadsBucket, 'UPLOADS_BUCKET', access.uploadsBucket);
    // The uploads bucket policy denies this role any source not tagged NO_THREATS_FOUND.
    if (access.scannedSourcesOnly) Tags.of(fn.role).add(SCANNED_ONLY_PRINCIPAL_TAG, 'true');
    if (access.mediaBucket) fn.useBucket(storage.mediaBucket, 'MEDIA_BUCKET', access.mediaBucket);
    if (access.stateTable) fn.useStateTable(stateTable.table, access.stateTable);
    for (const queueName of access.sendsTo ?? []) {
      const target = props.queues.byQueueName.get(queueName)!;
      fn.useQueue(target.queue, QUEUE_URL_VARIABLE[queueName]!);
    }
    if (access.mediaConvert) this.mediaConvert.allowCreateJobs(fn);
    if (access.events) allowEventOutbox(fn, props.queues);
    if (access.playback) allowPlayback(fn, props);
    for (const queueName of access.sendsToDeadLetterOf ?? []) {
      const pair = props.queues.byQueueName.get(queueName)!;
      fn.useQueue(pair.deadLetterQueue, DEAD_LETTER_URL_VARIABLE[queueName]!);
    }
    if (access.eventBus) {
      this.eventBus.grantPutEventsTo(fn.role);
      fn.addEnvironment({ EVENT_BUS_NAME: this.eventBus.eventBusName });
    }
    // Its own queue's URL: a record that must wait (a malware scan still running) shortens its own
    // visibility timeout instead of waiting out the full one (lambdas/events/retry.ts).
    fn.function.addEnvironment(QUEUE_URL_VARIABLE[consumer.queue]!, pair.queue.queueUrl);

    // Receiving, deleting and visibility changes on this one queue.
    fn.function.addEventSource(
      new lambdaEvents.SqsEventSource(pair.queue, {
        batchSize: consumer.batchSize,
        reportBatchItemFailures: true,
        maxConcurrency: consumer.maxConcurrency,
        maxBatchingWindow:
          access.maxBatchingWindowSeconds !== undefined
            ? Duration.seconds(access.maxBatchingWindowSeconds)
            : undefined,
      }),
    );
    return fn;
  }
}

/** What each scheduled worker (schedules.ts `entry`) may reach, beyond the database. */
const SCHEDULED_ACCESS: Record<
  string,
  Pick<ConsumerAccess, 'sendsTo' | 'uploadsBucket' | 'stateTable' | 'events'>
> = {
  // Re-queues media cleanup of deleted videos whose objects are still recorded as stored.
  'cleanup-sweeper': { sendsTo: ['media-cleanup'] },
  // Publishes what the outbox still owes, to each topic's queue.
  'outbox-relay': { sendsTo: [...new Set(Object.values(outboxQueues).map((key) => queueNames[key]))] },
  // Dispatches signed webhook attempts that are due (retries hours away, lost messages).
  'webhook-dispatcher': { sendsTo: ['webhook-deliveries'] },
  // Reads expired upload sessions, aborts their multipart uploads, deletes their videos (with events).
  'upload-expiry': { uploadsBucket: ['multipart'], stateTable: 'read', events: true },
};

/**
 * The scheduled workers of lambdas/events/schedules.ts (the table the local runtime builds its timers
 * from): one function and one EventBridge schedule (`rate(n minutes)`) each.
 */
export class ScheduledWorkers extends Construct {
  /** Keyed by schedules.ts `entry`. */
  public readonly functions: ReadonlyMap<string, AppFunction>;

  constructor(scope: Construct, id: string, props: EventPipelineProps) {
    super(scope, id);
    const functions = new Map<string, AppFunction>();
    for (const worker of scheduledWorkerList) functions.set(worker.entry, this.worker(worker, props));
    this.functions = functions;
  }

  private worker(worker: ScheduledWorker, props: EventPipelineProps): AppFunction {
    const access = SCHEDULED_ACCESS[worker.entry];
    if (!access) {
      throw new Error(
        `Scheduled worker "${worker.entry}" has no access declaration in lib/constructs/pipeline.ts SCHEDULED_ACCESS`,
      );
    }
    const fn = new AppFunction(this, `Fn${pascalCase(worker.entry)}`, {
      entry: `lambdas/events/${worker.entry}.ts`,
      stage: props.stage,
      description: `VideoCloud ${props.stage.name}: ${worker.description}`.slice(0, 256),
      memoryMb: worker.memoryMb,
      timeout: Duration.seconds(worker.timeoutSeconds),
      environment: { ...props.environment },
      network: props.network,
    });
    fn.useDatabase(props.database);
    for (const queueName of access.sendsTo ?? []) {
      fn.useQueue(props.queues.byQueueName.get(queueName)!.queue, QUEUE_URL_VARIABLE[queueName]!);
    }
    if (access.uploadsBucket)
      fn.useBucket(props.storage.uploadsBucket, 'UPLOADS_BUCKET', access.uploadsBucket);
    if (access.stateTable) fn.useStateTable(props.stateTable.table, access.stateTable);
    if (access.events) allowEventOutbox(fn, props.queues);
    new events.Rule(this, `Every${pascalCase(worker.entry)}`, {
      description: `VideoCloud ${props.stage.name}: ${worker.entry} every ${worker.everyMinutes} minutes`,
      schedule: events.Schedule.rate(Duration.minutes(worker.everyMinutes)),
      // A missed run is made up by the next one; retrying a sweep later would only overlap it.
      targets: [new eventTargets.LambdaFunction(fn.function, { retryAttempts: 0 })],
    });
    return fn;
  }
}

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
   * FFMPEG_MAX_SECONDS (lambdas/shared/config.ts, default 10 min) to MediaConvert.
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

export interface PipelineAlarmsProps {
  readonly stage: StageConfig;
  readonly deadLetterQueues: ReadonlyArray<{ name: string; queue: sqs.IQueue }>;
  readonly extraDeadLetterQueues?: ReadonlyArray<{ name: string; queue: sqs.IQueue }>;
  readonly failingFunctions: ReadonlyArray<{ name: string; fn: AppFunction }>;
}

/**
 * Alarms to an SNS topic (KMS-encrypted with a key CloudWatch may use, TLS-only): any message in a
 * dead-letter queue (work that failed every retry and needs an operator), and any error of the
 * transcode function (a failed transcode is retried, but errors there mean minutes of compute lost).
 * Subscribe an address or a chat integration to `topic` after deploying.
 */
export class PipelineAlarms extends Construct {
  public readonly topic: sns.Topic;
  public readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: PipelineAlarmsProps) {
    super(scope, id);
    const key = new kms.Key(this, 'TopicKey', {
      description: `VideoCloud ${props.stage.name}: encrypts the pipeline alarm topic`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    // CloudWatch alarms publish to an encrypted topic only when the key lets CloudWatch use it.
    key.grant(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: `VideoCloud ${props.stage.name} pipeline alarms`,
      masterKey: key,
      enforceSSL: true,
    });
    const action = new cwActions.SnsAction(this.topic);

    for (const { name, queue } of [...props.deadLetterQueues, ...(props.extraDeadLetterQueues ?? [])]) {
      const alarm = new cloudwatch.Alarm(this, `Dlq${pascalCase(name)}`, {
        alarmDescription: `Messages in the ${name} dead-letter queue: they failed every retry; inspect and redrive.`,
        metric: queue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(1),
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
      this.alarms.push(alarm);
    }
    for (const { name, fn } of props.failingFunctions) {
      const alarm = new cloudwatch.Alarm(this, `Errors${pascalCase(name)}`, {
        alarmDescription: `The ${name} function failed (error or timeout); see its log group.`,
        metric: fn.function.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(action);
      this.alarms.push(alarm);
    }
  }
}

export interface UploadNotificationsProps {
  readonly storage: MediaStorage;
  readonly queues: Queues;
}

/**
 * S3 ObjectCreated on uploaded sources (`uploads/{id}/source`) -> the ingest queue. Lives in the
 * stateful stack because both the bucket and the queue do: the notification configuration is a
 * property of the bucket, and the queue policy that admits S3 belongs to the queue, so creating it from
 * the stateless stack would make stateful resources depend on stateless ones (a cycle).
 */
export class UploadNotifications extends Construct {
  constructor(scope: Construct, id: string, props: UploadNotificationsProps) {
    super(scope, id);
    // The same list the local runtime routes its S3 events by (lambdas/shared/resources.ts).
    for (const { prefix, suffix, queue } of uploadNotifications) {
      props.storage.uploadsBucket.addEventNotification(
        s3.EventType.OBJECT_CREATED,
        new s3n.SqsDestination(props.queues.byKey[queue].queue),
        { prefix, suffix },
      );
    }
    // CDK's stack-wide singleton that applies bucket notification configurations at deploy time.
    const handler = Stack.of(this)
      .node.findAll()
      .find((c) => c.node.id.startsWith('BucketNotificationsHandler'));
    if (handler) {
      Validations.of(handler).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason:
          "CDK's BucketNotificationsHandler is a deploy-time custom resource that only calls " +
          'PutBucketNotification; its role is created by aws-s3 with the basic execution policy and cannot be ' +
          'replaced, and the function runs only during deployments.',
      });
    }
  }
}

/** Environment variable of each queue's dead-letter queue URL, where a function may send to one. */
const DEAD_LETTER_URL_VARIABLE: Record<string, string> = {
  [queueNames.webhookDeliveries]: QUEUE_URL_VARIABLES.webhookDeliveriesDlq,
};

/** Send to the queue of the outbox's `event` topic (the fast path of a function that writes events). */
function allowEventOutbox(fn: AppFunction, queues: Queues): void {
  const key = outboxQueues[outboxTopics.event];
  fn.useQueue(queues.byKey[key].queue, QUEUE_URL_VARIABLES[key]);
}

/** Playback URLs: where the media are, how long private URLs last, and read access to the signing key only. */
function allowPlayback(fn: AppFunction, props: Pick<EventPipelineProps, 'delivery' | 'stage'>): void {
  fn.addEnvironment({
    MEDIA_BASE_URL: props.delivery.baseUrl,
    PRIVATE_PLAYBACK_SECONDS: String(props.stage.privatePlaybackSeconds),
  });
  fn.useSecret(props.delivery.signingKey, 'PLAYBACK_KEY_SECRET_ARN');
}

/** A bucket's ARN as this stack sees it (an import when the bucket lives in another stack). */
function importedArn(scope: Construct, bucket: s3.IBucket): string {
  return Stack.of(bucket) === Stack.of(scope)
    ? bucket.bucketArn
    : Stack.of(bucket).exportValue(bucket.bucketArn);
}
