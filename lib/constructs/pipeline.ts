import { Duration, Tags } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as lambdaEvents from 'aws-cdk-lib/aws-lambda-event-sources';
import { Construct } from 'constructs';
import { consumerList, type QueueConsumer } from '../../lambdas/events/consumers.ts';
import { eventBus, objectKeys, queueKeyOf, queueUrlVariable } from '../../lambdas/shared/resources.ts';
import { FfmpegLayer } from '../../layers/ffmpeg/ffmpeg-layer.ts';
import type { StageConfig } from '../stage-config.ts';
import { AppFunction, pascalCase } from './app-function.ts';
import type { Database } from './database.ts';
import { allowEventOutbox, type ConsumerAccess } from './function-access.ts';
import { SCANNED_ONLY_PRINCIPAL_TAG } from './malware-protection.ts';
import type { MediaDelivery } from './media-delivery.ts';
import type { MediaStorage } from './media-storage.ts';
import { MediaConvertIntegration } from './mediaconvert.ts';
import type { Network } from './network.ts';
import { PipelineAlarms } from './pipeline-alarms.ts';
import type { QueuePair, Queues } from './queues.ts';
import { ScheduledWorkers } from './scheduled-workers.ts';
import type { StateTable } from './state-table.ts';

/**
 * Architecture of the functions that run ffmpeg. Graviton like every other function: npm publishes
 * static linux-arm64 builds of ffmpeg and ffprobe (@ffmpeg-installer/linux-arm64,
 * @ffprobe-installer/linux-arm64), and x264/AAC have NEON code paths, at Graviton's lower GB-second price.
 */
export const FFMPEG_ARCHITECTURE = lambda.Architecture.ARM_64;
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
  // Derivatives of ready videos: reads published renditions (playlists and segments, through a loopback
  // fence) and writes MP4 downloads, storyboard sprites and chosen posters, all under videos/ only;
  // deletes a download turned off and a poster replaced. Writes video.updated (events).
  derivatives: {
    mediaBucket: ['read', 'write', 'delete'],
    mediaPrefix: objectKeys.mediaRoot,
    events: true,
  },
  // Webhooks. The fan-out reads the outbox and endpoints, makes deliveries, renders playback URLs for
  // ready videos, dispatches signed attempts and passes events on to the bus queue.
  'webhook-fanout': { playback: true, sendsTo: ['webhookDeliveries', 'eventBus'] },
  // The only function that talks to webhook endpoints: on the internet, so outside the VPC, with no
  // database, no secret and no data access; it reports to the results queue and parks failed final
  // attempts in the deliveries DLQ.
  'webhook-sender': {
    database: false,
    sendsTo: ['webhookResults'],
    sendsToDeadLetterOf: ['webhookDeliveries'],
  },
  // Records each result in Postgres and dispatches the next attempt.
  'webhook-recorder': { sendsTo: ['webhookDeliveries'] },
  // PutEvents on the stage's bus: a public AWS API, so outside the VPC, no database.
  'event-bus': { database: false, eventBus: true },
};

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
    if (access.mediaBucket) {
      fn.useBucket(storage.mediaBucket, 'MEDIA_BUCKET', access.mediaBucket, access.mediaPrefix);
    }
    if (access.stateTable) fn.useStateTable(stateTable.table, access.stateTable);
    for (const key of access.sendsTo ?? []) fn.useQueue(props.queues.byKey[key].queue, key);
    // MediaConvert is an option of the stage: without `mediaConvertAboveSeconds`, ffmpeg takes every length.
    if (access.mediaConvert && stage.mediaConvertAboveSeconds !== undefined) {
      this.mediaConvert.allowCreateJobs(fn);
      fn.addEnvironment({ FFMPEG_MAX_SECONDS: String(stage.mediaConvertAboveSeconds) });
    }
    if (access.events) allowEventOutbox(fn, props.queues);
    if (access.playback) allowPlayback(fn, props);
    for (const key of access.sendsToDeadLetterOf ?? []) {
      fn.useQueue(props.queues.byKey[key].deadLetterQueue, `${key}Dlq`);
    }
    if (access.eventBus) {
      this.eventBus.grantPutEventsTo(fn.role);
      fn.addEnvironment({ EVENT_BUS_NAME: this.eventBus.eventBusName });
    }
    // Its own queue's URL: a record that must wait (a malware scan still running) shortens its own
    // visibility timeout instead of waiting out the full one (lambdas/events/retry.ts).
    fn.function.addEnvironment(queueUrlVariable(queueKeyOf(consumer.queue)), pair.queue.queueUrl);

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

/** Playback URLs: where the media are, how long private URLs last, and read access to the signing key only. */
function allowPlayback(fn: AppFunction, props: Pick<EventPipelineProps, 'delivery' | 'stage'>): void {
  fn.addEnvironment({
    MEDIA_BASE_URL: props.delivery.baseUrl,
    PRIVATE_PLAYBACK_SECONDS: String(props.stage.privatePlaybackSeconds),
  });
  fn.useSecret(props.delivery.signingKey, 'PLAYBACK_KEY_SECRET_ARN');
}
