import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import type { Construct } from 'constructs';
import { routeList } from '../lambdas/api/routes.ts';
import { outboxTopics, serviceName } from '../lambdas/shared/resources.ts';
import { Api, type EntryAccess } from './constructs/api.ts';
import { APP_VERSION, databaseEnvironment } from './constructs/app-function.ts';
import type { Auth } from './constructs/auth.ts';
import { OPENAPI_BUNDLE_FILES } from './constructs/bundling.ts';
import { OperationsDashboard } from './constructs/dashboard.ts';
import type { Database } from './constructs/database.ts';
import type { MediaDelivery } from './constructs/media-delivery.ts';
import type { MediaStorage } from './constructs/media-storage.ts';
import { Migrations } from './constructs/migrations.ts';
import type { Network } from './constructs/network.ts';
import { EventPipeline } from './constructs/pipeline.ts';
import type { Queues } from './constructs/queues.ts';
import type { StateTable } from './constructs/state-table.ts';
import { WebAcl } from './constructs/waf.ts';
import { WebDeployment, type WebHosting } from './constructs/web-hosting.ts';
import type { StageConfig } from './stage-config.ts';

export interface StatelessStackProps extends StackProps {
  readonly stage: StageConfig;
  readonly network: Network;
  readonly database: Database;
  readonly storage: MediaStorage;
  readonly stateTable: StateTable;
  readonly queues: Queues;
  readonly auth: Auth;
  readonly delivery: MediaDelivery;
  readonly web: WebHosting;
}

/**
 * What each handler of the route table may reach: this is where least-privilege grants are decided.
 * An entry missing here still deploys (authenticated ones with database access only) but synth warns.
 */
const API_ACCESS: Record<string, EntryAccess> = {
  // Pings both dependencies for real: a DB round trip and HeadBucket on each bucket.
  health: { database: true, uploadsBucket: ['head'], mediaBucket: ['head'] },
  // Authenticated requests mirror the caller into Postgres (lambdas/http/auth.ts), so even /me needs it.
  // Every authenticated entry also takes from its caller's rate-limit bucket in the state table
  // (lambdas/adapters/rate-limit.ts) and appends state changes and denied attempts to the audit log.
  me: { database: true, stateTable: 'readwrite' },
  // Video views carry signed playback URLs (lambdas/adapters/playback.ts) for ready videos.
  'videos-list': { database: true, playback: true, stateTable: 'readwrite' },
  'videos-get': { database: true, playback: true, stateTable: 'readwrite' },
  // Making a video private revokes its playback URLs: an outbox row, handed on to edge-sync at once; and
  // every change writes a video event (outbox -> webhook-events).
  'videos-update': {
    database: true,
    playback: true,
    stateTable: 'readwrite',
    outbox: [outboxTopics.playbackRevoked, outboxTopics.event, outboxTopics.derivatives],
  },
  // The media are removed asynchronously by the media-cleanup worker; the playback URLs are revoked.
  // Deleting a video whose upload is still open aborts that multipart upload first (core/uploads.ts).
  'videos-delete': {
    database: true,
    stateTable: 'readwrite',
    cleanupQueue: 'send',
    uploadsBucket: ['multipart'],
    outbox: [outboxTopics.playbackRevoked, outboxTopics.event, outboxTopics.derivatives],
  },
  // Caption tracks: the PUT URL of a new track is signed with the function's own credentials (so
  // s3:PutObject); a deleted track's files are removed by the captions worker (outbox).
  'captions-create': { database: true, stateTable: 'readwrite', uploadsBucket: ['write'] },
  'captions-list': { database: true, stateTable: 'readwrite' },
  'captions-delete': { database: true, stateTable: 'readwrite', outbox: [outboxTopics.captionDeleted] },
  // Uploads: sessions live in the state table, parts in the uploads bucket (presigned PUTs are signed with
  // the function's own credentials, so signing a part needs s3:PutObject). They write video events
  // (created, upload completed, upload aborted, deleted) and hand them to the webhook-events queue only.
  'uploads-create': {
    database: true,
    stateTable: 'readwrite',
    uploadsBucket: ['write', 'multipart'],
    outbox: [outboxTopics.event],
  },
  'uploads-sign-parts': { database: true, stateTable: 'readwrite', uploadsBucket: ['write'] },
  'uploads-get': { database: true, stateTable: 'readwrite', uploadsBucket: ['multipart'] },
  'uploads-complete': {
    database: true,
    stateTable: 'readwrite',
    uploadsBucket: ['read', 'write', 'multipart'],
    outbox: [outboxTopics.event],
  },
  'uploads-abort': {
    database: true,
    stateTable: 'readwrite',
    uploadsBucket: ['multipart'],
    outbox: [outboxTopics.event],
  },
  // API keys (only their hashes) and the audit log live in Postgres.
  'api-keys-create': { database: true, stateTable: 'readwrite' },
  'api-keys-list': { database: true, stateTable: 'readwrite' },
  'api-keys-delete': { database: true, stateTable: 'readwrite' },
  'audit-list': { database: true, stateTable: 'readwrite' },
  // Webhook endpoints and deliveries live in Postgres. Registering checks the URL's addresses (a DNS
  // lookup; VPC DNS works without internet). Only a test event and a redelivery send an attempt, signed
  // here, to the deliveries queue; no API function ever talks to a webhook endpoint.
  'webhooks-create': { database: true, stateTable: 'readwrite' },
  'webhooks-list': { database: true, stateTable: 'readwrite' },
  'webhooks-get': { database: true, stateTable: 'readwrite' },
  'webhooks-update': { database: true, stateTable: 'readwrite' },
  'webhooks-delete': { database: true, stateTable: 'readwrite' },
  'webhooks-rotate-secret': { database: true, stateTable: 'readwrite' },
  'webhooks-test': { database: true, stateTable: 'readwrite', webhookDeliveries: 'send' },
  'webhooks-deliveries-list': { database: true, stateTable: 'readwrite' },
  'webhooks-deliveries-retry': { database: true, stateTable: 'readwrite', webhookDeliveries: 'send' },
  // The OpenAPI document is written at bundling time by the script that writes it for linting
  // (bin/openapi.ts, from the route table), so the function loads neither zod-openapi nor any schema.
  openapi: { bundleFiles: OPENAPI_BUNDLE_FILES },
  docs: {
    bundleFiles: {
      into: 'swagger-ui',
      files: [
        'node_modules/swagger-ui-dist/swagger-ui.css',
        'node_modules/swagger-ui-dist/swagger-ui-bundle.js',
      ],
    },
  },
};

/**
 * Code and the things that only route to it: the API, its functions and the migration trigger.
 * Safe to redeploy at any time; holds no data.
 */
export class StatelessStack extends Stack {
  public readonly api: Api;
  public readonly migrations: Migrations;
  public readonly pipeline: EventPipeline;
  public readonly apiWaf: WebAcl;
  public readonly webDeployment: WebDeployment;
  public readonly dashboard: OperationsDashboard;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    const { network, database, storage, stateTable, queues, auth, delivery, web } = props;
    // The deployed web app (WebHosting) is a browser origin of the API like the configured ones.
    const stage = { ...props.stage, webOrigins: [...props.stage.webOrigins, web.origin] };

    this.migrations = new Migrations(this, 'Migrations', { stage, network, database });

    // Every handler validates all of this at cold start, so even functions without data access get it
    // (names and values only; access itself comes from the grants in API_ACCESS).
    const environment = {
      VIDEOCLOUD_VERSION: APP_VERSION,
      // Tags MediaConvert jobs; the status rule and handler only settle this stage's jobs.
      VIDEOCLOUD_STAGE: stage.name,
      ...databaseEnvironment(database),
      UPLOADS_BUCKET: storage.uploadsBucket.bucketName,
      MEDIA_BUCKET: storage.mediaBucket.bucketName,
      STATE_TABLE: stateTable.table.tableName,
      COGNITO_USER_POOL_ID: auth.userPool.userPoolId,
      COGNITO_CLIENT_ID: auth.webClient.userPoolClientId,
      API_SCOPE_PREFIX: auth.scopePrefix,
      CORS_ORIGINS: stage.webOrigins.join(','),
      LOG_LEVEL: stage.logLevel,
      POWERTOOLS_SERVICE_NAME: serviceName,
      // Ingest reads GuardDuty's scan tag (lib/constructs/malware-protection.ts) before touching a source.
      MALWARE_SCANNER: stage.malwareProtection ? 'guardduty' : 'none',
    };

    this.api = new Api(this, 'Api', {
      stage,
      routes: routeList,
      access: API_ACCESS,
      environment,
      network,
      database,
      storage,
      stateTable,
      queues,
      delivery,
    });

    // Queue consumers (from lambdas/events/consumers.ts), the ffmpeg layer, the MediaConvert path and the
    // pipeline alarms. The S3 -> ingest queue notification is in the stateful stack (UploadNotifications).
    this.pipeline = new EventPipeline(this, 'Pipeline', {
      stage,
      environment,
      network,
      database,
      storage,
      stateTable,
      queues,
      delivery,
    });

    // WAF on the API stage: per-IP rate rule, AWS common rules, known bad inputs, IP reputation list.
    this.apiWaf = new WebAcl(this, 'ApiWaf', {
      scope: 'REGIONAL',
      name: `videocloud-${stage.name}-api`,
      ratePer5Minutes: stage.wafRatePer5Minutes,
    });
    new wafv2.CfnWebACLAssociation(this, 'ApiWafAssociation', {
      resourceArn: this.api.restApi.deploymentStage.stageArn,
      webAclArn: this.apiWaf.arn,
    });

    // New handler code goes live only after the schema it expects is in place.
    this.migrations.trigger.executeBefore(
      ...this.api.functions.values(),
      ...this.pipeline.consumers.values(),
      ...this.pipeline.scheduled.functions.values(),
      this.pipeline.mediaConvert.statusFunction,
    );

    // What an operator watches: the product's metrics, the API, every queue and DLQ, the alarms.
    this.dashboard = new OperationsDashboard(this, 'Operations', {
      stageName: stage.name,
      restApi: this.api.restApi,
      queues: queues.byQueueName,
      functions: new Map([
        ...this.pipeline.consumers,
        ...this.pipeline.scheduled.functions,
        ['mediaconvert-status', this.pipeline.mediaConvert.statusFunction],
      ]),
      alarms: this.pipeline.alarms.alarms,
    });

    // The browser client and its /config.json (shape: lambdas/shared/web-config.ts).
    this.webDeployment = new WebDeployment(this, 'Web', {
      hosting: web,
      apiBaseUrl: this.api.restApi.url,
      auth: {
        domain: auth.domain.baseUrl(),
        clientId: auth.webClient.userPoolClientId,
        scopes: auth.webScopes,
      },
    });

    new CfnOutput(this, 'WebUrl', { value: `${web.origin}/`, description: 'The web app' });
    new CfnOutput(this, 'MediaBaseUrl', { value: delivery.baseUrl, description: 'The media CDN' });
    new CfnOutput(this, 'ApiUrl', {
      value: this.api.restApi.url,
      description: 'Base URL of the REST API stage',
    });
    new CfnOutput(this, 'EventBusName', {
      value: this.pipeline.eventBus.eventBusName,
      description: 'EventBridge bus of video and upload events (detail-type = event type)',
    });
    new CfnOutput(this, 'EventBusArn', { value: this.pipeline.eventBus.eventBusArn });
    new CfnOutput(this, 'UserPoolId', { value: auth.userPool.userPoolId });
    new CfnOutput(this, 'WebClientId', { value: auth.webClient.userPoolClientId });
    new CfnOutput(this, 'HostedUiDomain', { value: auth.domain.baseUrl() });
  }
}
