import { Annotations, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { RouteSpec } from '../../lambdas/api/route-spec.ts';
import { type OutboxTopic, outboxQueues } from '../../lambdas/shared/resources.ts';
import type { StageConfig } from '../stage-config.ts';
import { AppFunction, type BucketCapability, pascalCase } from './app-function.ts';
import type { BundleFiles } from './bundling.ts';
import type { Database } from './database.ts';
import type { MediaDelivery } from './media-delivery.ts';
import type { MediaStorage } from './media-storage.ts';
import type { Network } from './network.ts';
import type { Queues } from './queues.ts';
import type { StateTable } from './state-table.ts';

/** What the function of one route-table `entry` may touch. Anything not listed, it cannot reach. */
export interface EntryAccess {
  /** Postgres through RDS Proxy as the IAM app user; attaches the function to the VPC. */
  readonly database?: boolean;
  readonly uploadsBucket?: readonly BucketCapability[];
  readonly mediaBucket?: readonly BucketCapability[];
  readonly stateTable?: 'read' | 'readwrite';
  /** Send to the ingest queue. */
  readonly ingestQueue?: 'send';
  /** Send to the media-cleanup queue. */
  readonly cleanupQueue?: 'send';
  /**
   * Returns playback URLs: MEDIA_BASE_URL, PLAYBACK_KEY_SECRET_ARN and PRIVATE_PLAYBACK_SECONDS, and
   * GetSecretValue on the signing key only (lambdas/adapters/playback.ts).
   */
  readonly playback?: boolean;
  /**
   * Outbox topics it writes and hands on right after its commit: send to each topic's queue
   * (lambdas/shared/resources.ts outboxQueues), and nothing else.
   */
  readonly outbox?: readonly OutboxTopic[];
  /** Sends signed webhook attempts (a test event, a redelivery) to the deliveries queue. */
  readonly webhookDeliveries?: 'send';
  /** Extra files the handler reads at run time, copied into its bundle. */
  readonly bundleFiles?: BundleFiles;
}

export interface ApiProps {
  /** Throttling, CORS origins, log retention and function settings come from the stage. */
  readonly stage: StageConfig;
  /** The route table (lambdas/api/routes.ts `routeList`). */
  readonly routes: ReadonlyArray<RouteSpec & { id: string }>;
  /**
   * Access per `entry`. An entry missing here gets a conservative default (see `defaultAccess`) and a
   * synth warning, so new routes deploy but nobody forgets to decide what they may reach.
   */
  readonly access: Readonly<Record<string, EntryAccess>>;
  /** Configuration every handler validates at cold start (lambdas/shared/config.ts). */
  readonly environment: Readonly<Record<string, string>>;
  readonly network: Network;
  readonly database: Database;
  readonly storage: MediaStorage;
  readonly stateTable: StateTable;
  readonly queues: Queues;
  /** The media CDN; required when an entry declares `playback`. */
  readonly delivery?: MediaDelivery;
}

/** Headers a browser may send cross-origin; keep in step with CORS_ALLOWED_HEADERS in lambdas/http/cors.ts. */
const CORS_ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'X-Api-Key', 'X-Request-Id'];
const DEFAULT_MEMORY_MB = 512;
const DEFAULT_TIMEOUT_SECONDS = 10;
/** API Gateway gives up on an integration after 29 s; a longer function timeout would only cost money. */
const MAX_TIMEOUT_SECONDS = 29;

/**
 * The public REST API, built entirely from the route table: for every route, its resource path and
 * method, proxied to the function of its `entry` (one function per distinct entry; routes may share
 * one). The stage has default throttling, JSON access logs, execution logs and X-Ray tracing.
 * Authentication happens in the handlers (Cognito access tokens via aws-jwt-verify, or API keys), not in
 * API Gateway, because routes accept either credential and several serve anonymous callers too.
 */
export class Api extends Construct {
  public readonly restApi: apigateway.RestApi;
  public readonly accessLogGroup: logs.LogGroup;
  /** The function behind each entry. */
  public readonly functions: ReadonlyMap<string, AppFunction>;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    const { stage } = props;

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: stage.logRetentionDays as logs.RetentionDays,
      removalPolicy: stage.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });

    this.restApi = new apigateway.RestApi(this, 'RestApi', {
      restApiName: `videocloud-${stage.name}`,
      description: `VideoCloud REST API (${stage.name})`,
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      // Execution logs need the account-level API Gateway logging role. Kept on removal: it is shared by
      // every REST API in the account and region, and deleting it would silence the others.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName: stage.name,
        tracingEnabled: true,
        // Rendered as the `*` / `/*` method setting, so it applies to every method.
        throttlingRateLimit: stage.throttle.rateLimit,
        throttlingBurstLimit: stage.throttle.burstLimit,
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        // Full request/response logging would copy tokens and bodies into CloudWatch.
        dataTraceEnabled: false,
        metricsEnabled: true,
        accessLogDestination: new apigateway.LogGroupLogDestination(this.accessLogGroup),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields({
          caller: false,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: false,
        }),
      },
    });
    const cloudWatchRole = this.restApi.node.tryFindChild('CloudWatchRole');
    if (cloudWatchRole) {
      Validations.of(cloudWatchRole).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          'This is the account-level role API Gateway assumes to write execution logs (required for APIG6); ' +
          'AWS maintains this managed policy for exactly that purpose and only apigateway.amazonaws.com can assume it.',
      });
    }
    Validations.of(this.restApi).acknowledge(
      {
        id: 'AwsSolutions-APIG2',
        reason:
          'Each handler validates path, query and body strictly against the zod schemas of its route-table row ' +
          'and answers RFC 9457 problem+json; a gateway validator would duplicate that in a different error format.',
      },
      {
        id: 'AwsSolutions-APIG3',
        reason:
          'The stage gets a WAF web ACL (lib/constructs/waf.ts: per-IP rate rule and AWS managed rules) through a ' +
          'WebACLAssociation in the stateless stack, which cdk-nag does not see from the stage itself.',
      },
    );

    this.functions = this.createFunctions(props);
    this.addRoutes(props);
  }

  private createFunctions(props: ApiProps): Map<string, AppFunction> {
    const { stage, routes, access, network, database, storage, stateTable, queues } = props;
    const byEntry = new Map<string, Array<RouteSpec & { id: string }>>();
    for (const route of routes) byEntry.set(route.entry, [...(byEntry.get(route.entry) ?? []), route]);

    const functions = new Map<string, AppFunction>();
    for (const [entry, entryRoutes] of byEntry) {
      const grants = access[entry] ?? this.defaultAccess(entry, entryRoutes);
      // Routes sharing a function share its sizing: the most any of them asks for.
      const memoryMb = Math.max(DEFAULT_MEMORY_MB, ...entryRoutes.map((r) => r.lambda?.memoryMb ?? 0));
      const timeoutSeconds = Math.min(
        MAX_TIMEOUT_SECONDS,
        Math.max(DEFAULT_TIMEOUT_SECONDS, ...entryRoutes.map((r) => r.lambda?.timeoutSeconds ?? 0)),
      );
      const fn = new AppFunction(this, `Fn${pascalCase(entry)}`, {
        entry: `lambdas/api/${entry}.ts`,
        stage,
        // Lambda descriptions stop at 256 characters.
        description:
          `VideoCloud ${stage.name}: ${entryRoutes.map((r) => `${r.method} ${r.path}`).join(', ')}`.slice(
            0,
            256,
          ),
        memoryMb,
        timeout: Duration.seconds(timeoutSeconds),
        environment: { ...props.environment },
        network: grants.database ? network : undefined,
        bundleFiles: grants.bundleFiles,
      });
      if (grants.database) fn.useDatabase(database);
      if (grants.uploadsBucket) fn.useBucket(storage.uploadsBucket, 'UPLOADS_BUCKET', grants.uploadsBucket);
      if (grants.mediaBucket) fn.useBucket(storage.mediaBucket, 'MEDIA_BUCKET', grants.mediaBucket);
      if (grants.stateTable) fn.useStateTable(stateTable.table, grants.stateTable);
      if (grants.ingestQueue) fn.useQueue(queues.ingest.queue, 'ingest');
      if (grants.cleanupQueue) fn.useQueue(queues.mediaCleanup.queue, 'mediaCleanup');
      if (grants.playback) {
        const { delivery } = props;
        if (!delivery)
          throw new Error(`Route entry "${entry}" returns playback URLs but Api has no delivery`);
        fn.addEnvironment({
          MEDIA_BASE_URL: delivery.baseUrl,
          PRIVATE_PLAYBACK_SECONDS: String(stage.privatePlaybackSeconds),
        });
        fn.useSecret(delivery.signingKey, 'PLAYBACK_KEY_SECRET_ARN');
      }
      if (grants.outbox) {
        for (const queue of new Set(grants.outbox.map((topic) => outboxQueues[topic]))) {
          fn.useQueue(queues.byKey[queue].queue, queue);
        }
      }
      if (grants.webhookDeliveries) {
        fn.useQueue(queues.webhookDeliveries.queue, 'webhookDeliveries');
      }
      functions.set(entry, fn);
    }
    return functions;
  }

  /**
   * For an entry nobody has declared yet: authenticated routes get the database (the auth middleware
   * mirrors every caller into Postgres), public ones nothing. Synth warns, so the gap gets closed.
   */
  private defaultAccess(entry: string, entryRoutes: ReadonlyArray<RouteSpec & { id: string }>): EntryAccess {
    const authenticated = entryRoutes.some((route) => route.auth !== 'none');
    Annotations.of(this).addWarningV2(
      `videocloud:undeclared-entry-${entry}`,
      `Route entry "${entry}" has no access declaration in lib/stateless-stack.ts; it gets ` +
        `${authenticated ? 'the database only' : 'no data access'}. Declare what it may reach.`,
    );
    return authenticated ? { database: true } : {};
  }

  /**
   * Any other method on a route's resource answers 405 with Allow, as the local gateway does and the
   * OpenAPI document declares, instead of API Gateway's default 403 "Missing Authentication Token". An
   * ANY method only catches the methods the resource does not define; its mock integration answers
   * from the gateway itself (no function runs, no rate limit is spent). With no request template, the
   * mock takes the default integration response (the one without a selection pattern): the 405.
   */
  private addMethodNotAllowed(resource: apigateway.Resource, methods: readonly string[]): void {
    const headers = {
      'Content-Type': "'application/problem+json'",
      Allow: `'${methods.join(', ')}'`,
      'X-Request-Id': 'context.requestId',
      'Cache-Control': "'no-store'",
      'X-Content-Type-Options': "'nosniff'",
    };
    const responseParameters = (value: (mapping: string) => string | boolean) =>
      Object.fromEntries(
        Object.entries(headers).map(([name, mapping]) => [`method.response.header.${name}`, value(mapping)]),
      );
    const problem = JSON.stringify({
      type: '/problems/method-not-allowed',
      title: 'Method not allowed',
      status: 405,
      detail: `$context.httpMethod is not supported on $context.resourcePath (allowed: ${methods.join(', ')})`,
    });
    const method = resource.addMethod(
      'ANY',
      new apigateway.MockIntegration({
        passthroughBehavior: apigateway.PassthroughBehavior.WHEN_NO_MATCH,
        integrationResponses: [
          {
            statusCode: '405',
            responseParameters: responseParameters((mapping) => mapping) as Record<string, string>,
            responseTemplates: { 'application/json': problem },
          },
        ],
      }),
      {
        methodResponses: [
          {
            statusCode: '405',
            responseParameters: responseParameters(() => true) as Record<string, boolean>,
          },
        ],
      },
    );
    const why = `ANY ${resource.path} only answers 405 Method not allowed from a mock integration: no function runs and nothing is returned but the problem.`;
    Validations.of(method).acknowledge(
      { id: 'AwsSolutions-APIG4', reason: why },
      { id: 'AwsSolutions-COG4', reason: why },
    );
  }

  private addRoutes(props: ApiProps): void {
    const methodsByResource = new Map<apigateway.Resource, string[]>();
    const integrations = new Map<string, apigateway.LambdaIntegration>();

    for (const route of props.routes) {
      const fn = this.functions.get(route.entry)!;
      let integration = integrations.get(route.entry);
      if (!integration) {
        // No test-invoke permission: the console's test button is not worth a second invoke grant per method.
        integration = new apigateway.LambdaIntegration(fn.function, { allowTestInvoke: false });
        integrations.set(route.entry, integration);
      }
      // API Gateway matches a path with a trailing slash to the same resource and keeps the slash in
      // the event's path: GET /docs/ reaches the docs function, whose page works from either URL.
      const resource = this.restApi.root.resourceForPath(route.path.replace(/^\//, ''));
      const method = resource.addMethod(route.method, integration, { operationName: route.id });
      methodsByResource.set(resource, [...(methodsByResource.get(resource) ?? []), route.method]);

      const why =
        route.auth === 'none'
          ? `${route.method} ${route.path} is public by the API contract (auth: none in the route table).`
          : `${route.method} ${route.path} authenticates in its handler: aws-jwt-verify checks the Cognito access ` +
            'token and the handler checks groups and scopes per object, identically locally and in the cloud' +
            (route.auth === 'optional'
              ? '; anonymous callers are served too, which a gateway authorizer would refuse.'
              : '; a gateway Cognito authorizer would also shut out the planned API-key credential.');
      Validations.of(method).acknowledge(
        { id: 'AwsSolutions-APIG4', reason: why },
        { id: 'AwsSolutions-COG4', reason: why },
      );
    }

    for (const [resource, methods] of methodsByResource) this.addMethodNotAllowed(resource, methods);

    const origins = props.stage.webOrigins;
    if (origins.length === 0) return; // No browser origin may call the API, so no preflight to answer.
    for (const [resource, methods] of methodsByResource) {
      const preflight = resource.addCorsPreflight({
        allowOrigins: origins,
        allowMethods: methods,
        allowHeaders: CORS_ALLOWED_HEADERS,
        maxAge: Duration.hours(1),
      });
      const why =
        'CORS preflight (OPTIONS) requests never carry credentials, by the Fetch standard; it returns headers only.';
      Validations.of(preflight).acknowledge(
        { id: 'AwsSolutions-APIG4', reason: why },
        { id: 'AwsSolutions-COG4', reason: why },
      );
    }
  }
}
