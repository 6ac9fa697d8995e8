import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { routeList } from '../lambdas/api/routes.ts';
import { Api, type EntryAccess } from './constructs/api.ts';
import { APP_VERSION, databaseEnvironment } from './constructs/app-function.ts';
import type { Auth } from './constructs/auth.ts';
import type { Database } from './constructs/database.ts';
import type { MediaStorage } from './constructs/media-storage.ts';
import { Migrations } from './constructs/migrations.ts';
import type { Network } from './constructs/network.ts';
import type { Queues } from './constructs/queues.ts';
import type { StateTable } from './constructs/state-table.ts';
import type { StageConfig } from './stage-config.ts';

export interface StatelessStackProps extends StackProps {
  readonly stage: StageConfig;
  readonly network: Network;
  readonly database: Database;
  readonly storage: MediaStorage;
  readonly stateTable: StateTable;
  readonly queues: Queues;
  readonly auth: Auth;
}

/**
 * What each handler of the route table may reach: this is where least-privilege grants are decided.
 * An entry missing here still deploys (authenticated ones with database access only) but synth warns.
 */
const API_ACCESS: Record<string, EntryAccess> = {
  // Pings both dependencies for real: a DB round trip and HeadBucket on each bucket.
  health: { database: true, uploadsBucket: ['head'], mediaBucket: ['head'] },
  openapi: {},
  // Authenticated requests mirror the caller into Postgres (lambdas/shared/http.ts), so even /me needs it.
  me: { database: true },
  'videos-list': { database: true },
  'videos-get': { database: true },
  'videos-update': { database: true },
  // The media are removed asynchronously by the media-cleanup worker.
  'videos-delete': { database: true, cleanupQueue: 'send' },
  // Uploads: sessions live in the state table, parts in the uploads bucket (presigned PUTs are signed with
  // the function's own credentials, so signing a part needs s3:PutObject).
  'uploads-create': { database: true, stateTable: 'readwrite', uploadsBucket: ['write', 'multipart'] },
  'uploads-sign-parts': { database: true, stateTable: 'read', uploadsBucket: ['write'] },
  'uploads-get': { database: true, stateTable: 'read', uploadsBucket: ['multipart'] },
  'uploads-complete': {
    database: true,
    stateTable: 'readwrite',
    uploadsBucket: ['read', 'write', 'multipart'],
  },
  'uploads-abort': { database: true, stateTable: 'readwrite', uploadsBucket: ['multipart'] },
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

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    const { stage, network, database, storage, stateTable, queues, auth } = props;

    this.migrations = new Migrations(this, 'Migrations', { stage, network, database });

    // Every handler validates all of this at cold start, so even functions without data access get it
    // (names and values only; access itself comes from the grants in API_ACCESS).
    const environment = {
      VIDEOCLOUD_VERSION: APP_VERSION,
      ...databaseEnvironment(database),
      UPLOADS_BUCKET: storage.uploadsBucket.bucketName,
      MEDIA_BUCKET: storage.mediaBucket.bucketName,
      STATE_TABLE: stateTable.table.tableName,
      COGNITO_USER_POOL_ID: auth.userPool.userPoolId,
      COGNITO_CLIENT_ID: auth.webClient.userPoolClientId,
      API_SCOPE_PREFIX: auth.scopePrefix,
      CORS_ORIGINS: stage.webOrigins.join(','),
      LOG_LEVEL: stage.logLevel,
      POWERTOOLS_SERVICE_NAME: 'videocloud',
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
    });
    // New handler code goes live only after the schema it expects is in place.
    this.migrations.trigger.executeBefore(...this.api.functions.values());

    new CfnOutput(this, 'ApiUrl', {
      value: this.api.restApi.url,
      description: 'Base URL of the REST API stage',
    });
    new CfnOutput(this, 'UserPoolId', { value: auth.userPool.userPoolId });
    new CfnOutput(this, 'WebClientId', { value: auth.webClient.userPoolClientId });
    new CfnOutput(this, 'HostedUiDomain', { value: auth.domain.baseUrl() });
  }
}
