import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Size, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { EnvName } from '../../lambdas/shared/config.ts';
import { type QueueRef, queueUrlVariable } from '../../lambdas/shared/resources.ts';
import { nagResource } from '../nag.ts';
import type { StageConfig } from '../stage-config.ts';
import {
  BUNDLE_TARGET,
  type BundleFiles,
  bundleFileCommands,
  ESM_REQUIRE_BANNER,
  EXTERNAL_MODULES,
  MAIN_FIELDS,
} from './bundling.ts';
import type { Database } from './database.ts';
import type { Network } from './network.ts';

/** The repository root: entries, the lock file and node_modules are all resolved from here. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The Node.js line every function (and the ffmpeg layer) runs: the current LTS, the same major as the
 * `engines` floor in package.json and .nvmrc, so code is tested locally on what Lambda runs.
 */
export const LAMBDA_RUNTIME = lambda.Runtime.NODEJS_24_X;

/** The version the API reports, from package.json. */
export const APP_VERSION: string = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).version;

/**
 * What a function may do with a bucket; combine as needed. Exact actions instead of the wildcard
 * families of `bucket.grant*`:
 * - `head`: HeadBucket, which needs s3:ListBucket on the bucket and no object access;
 * - `list`: ListObjectsV2 under any prefix (the same s3:ListBucket; keys are listed, objects not read);
 * - `read`: GetObject (also HeadObject);
 * - `write`: PutObject (also CreateMultipartUpload, UploadPart, CompleteMultipartUpload, and presigning them);
 * - `multipart`: ListMultipartUploadParts (ListParts) and AbortMultipartUpload;
 * - `delete`: DeleteObject (also DeleteObjects).
 */
export type BucketCapability = 'head' | 'list' | 'read' | 'tags' | 'write' | 'multipart' | 'delete';

const OBJECT_ACTIONS: Record<Exclude<BucketCapability, 'head' | 'list'>, string[]> = {
  read: ['s3:GetObject'],
  // Object tags, e.g. GuardDuty's malware scan status (lambdas/adapters/malware.ts).
  tags: ['s3:GetObjectTagging'],
  write: ['s3:PutObject'],
  multipart: ['s3:ListMultipartUploadParts', 's3:AbortMultipartUpload'],
  delete: ['s3:DeleteObject'],
};

export interface AppFunctionProps {
  /** Handler module, relative to the repository root (e.g. `lambdas/api/health.ts`); it exports `handler`. */
  readonly entry: string;
  /** Log retention and removal policy of the log group come from the stage. */
  readonly stage: StageConfig;
  readonly description?: string;
  /** @default 512 */
  readonly memoryMb?: number;
  /** @default Duration.seconds(10) */
  readonly timeout?: Duration;
  /** Configuration the handler validates at cold start. */
  readonly environment?: Record<string, string>;
  /**
   * Attach the function to the app VPC (isolated subnets). Needed only to reach the database; every
   * other dependency is reachable without it, and staying out of the VPC keeps cold starts shorter.
   */
  readonly network?: Network;
  /**
   * VPC functions share one security group per stack (`shared`, the default): they all reach the same
   * thing, RDS Proxy, and one group with one ingress rule at the proxy costs 2 resources instead of 2 per
   * function. `own` gives the function a group of its own, for one that reaches something the others may
   * not (the migration function and the database instance).
   */
  readonly securityGroup?: 'shared' | 'own';
  readonly bundleFiles?: BundleFiles;
  /** @default lambda.Architecture.ARM_64 (Graviton); layers with native code must match it. */
  readonly architecture?: lambda.Architecture;
  /** Layers mounted under /opt (e.g. the ffmpeg layer). */
  readonly layers?: lambda.ILayerVersion[];
  /** Size of /tmp in MB (512-10240). @default 512 */
  readonly ephemeralStorageMb?: number;
}

/**
 * Every Lambda function of VideoCloud: Node.js 24 (LAMBDA_RUNTIME) on Graviton, bundled by the local esbuild into one
 * minified ESM file with source maps, X-Ray active tracing, its own log group with the stage's retention,
 * and an execution role that starts empty. Access is added with the `use*` methods, which set the
 * environment variable and the least-privilege grant together so the two cannot drift apart.
 */
export class AppFunction extends Construct {
  public readonly function: nodejs.NodejsFunction;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: AppFunctionProps) {
    super(scope, id);
    const entry = join(REPO_ROOT, props.entry);
    if (!existsSync(entry)) {
      throw new Error(`AppFunction ${this.node.path}: handler file ${props.entry} does not exist`);
    }
    const bundled = props.bundleFiles;
    for (const file of [...(bundled?.files ?? []), ...Object.values(bundled?.generated ?? {})]) {
      if (!existsSync(join(REPO_ROOT, file)))
        throw new Error(`AppFunction ${this.node.path}: bundle file ${file} does not exist`);
    }

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.stage.logRetentionDays as logs.RetentionDays,
      removalPolicy: props.stage.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });

    // Our own role instead of the AWS managed execution policies: those allow writing to every log group
    // in the account, while this one may only write to its own.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${this.node.path}`,
    });
    this.logGroup.grantWrite(this.role);
    if (props.network) {
      // What AWSLambdaVPCAccessExecutionRole grants, minus its account-wide log permissions.
      this.role.addToPolicy(
        new iam.PolicyStatement({
          actions: [
            'ec2:CreateNetworkInterface',
            'ec2:DescribeNetworkInterfaces',
            'ec2:DescribeSubnets',
            'ec2:DeleteNetworkInterface',
            'ec2:AssignPrivateIpAddresses',
            'ec2:UnassignPrivateIpAddresses',
          ],
          resources: ['*'],
        }),
      );
    }

    const bundleFiles = props.bundleFiles;
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry,
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      runtime: LAMBDA_RUNTIME,
      architecture: props.architecture ?? lambda.Architecture.ARM_64,
      layers: props.layers,
      ephemeralStorageSize: props.ephemeralStorageMb ? Size.mebibytes(props.ephemeralStorageMb) : undefined,
      memorySize: props.memoryMb ?? 512,
      timeout: props.timeout ?? Duration.seconds(10),
      description: props.description,
      role: this.role,
      logGroup: this.logGroup,
      tracing: lambda.Tracing.ACTIVE,
      vpc: props.network?.vpc,
      vpcSubnets: props.network?.subnets,
      securityGroups:
        props.network && props.securityGroup !== 'own'
          ? [sharedFunctionSecurityGroup(this, props.network)]
          : undefined,
      environment: {
        ...props.environment,
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: {
        format: nodejs.OutputFormat.ESM,
        target: BUNDLE_TARGET,
        mainFields: MAIN_FIELDS,
        banner: ESM_REQUIRE_BANNER,
        minify: true,
        sourceMap: true,
        // Stack traces need the mappings, not a second copy of every source file.
        sourcesContent: false,
        // See lib/constructs/bundling.ts (also what the bundle-size test builds with).
        externalModules: EXTERNAL_MODULES,
        forceDockerBundling: false,
        commandHooks: bundleFiles
          ? {
              beforeBundling: () => [],
              beforeInstall: () => [],
              afterBundling: (inputDir: string, outputDir: string) =>
                bundleFileCommands(bundleFiles, inputDir, outputDir),
            }
          : undefined,
      },
    });

    Validations.of(this).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Only X-Ray PutTraceSegments/PutTelemetryRecords and, for VPC functions, the Lambda ENI actions ' +
        'use Resource "*": none of those actions supports resource-level permissions.',
    });
  }

  /** Adds environment variables (the same name set twice must have the same value). */
  public addEnvironment(variables: Record<string, string>): this {
    for (const [name, value] of Object.entries(variables)) this.function.addEnvironment(name, value);
    return this;
  }

  /**
   * Connect to Postgres through RDS Proxy as the IAM-authenticated app user: rds-db:connect for that one
   * user on that one proxy, and a security-group rule to the proxy on 5432.
   */
  public useDatabase(database: Database): this {
    database.proxy.grantConnect(this.role, database.appUser);
    this.allowConnectionTo(database.proxySecurityGroup, database.proxyPort, 'RDS Proxy');
    return this.addEnvironment(databaseEnvironment(database));
  }

  /**
   * Lets this VPC-attached function open TCP connections to `port` of a security group (egress is
   * already open). The ingress rule is created in this function's stack, next to the function, so a
   * stateful stack never refers back to the stateless one.
   */
  public allowConnectionTo(target: ec2.ISecurityGroup, port: number, targetName: string): this {
    if (!this.function.isBoundToVpc) {
      throw new Error(
        `${this.node.path} connects to ${targetName}, so it must be created with a network (VPC)`,
      );
    }
    const source = this.function.connections.securityGroups[0]!;
    const shared = source.node.scope === Stack.of(this) && source.node.id === SHARED_SECURITY_GROUP_ID;
    // The shared group's rule is made once per stack, by the first function that asks for it.
    const scope: Construct = shared ? Stack.of(this) : this;
    const id = `${shared ? 'FunctionsTo' : 'To'}${targetName.replace(/\W/g, '')}${shared ? port : ''}`;
    if (scope.node.tryFindChild(id)) return this;
    const targetHere = ec2.SecurityGroup.fromSecurityGroupId(scope, id, target.securityGroupId, {
      mutable: true,
      allowAllOutbound: false,
    });
    targetHere.connections.allowFrom(
      source,
      ec2.Port.tcp(port),
      `${shared ? `${Stack.of(this).stackName} VPC functions` : this.node.path} to ${targetName}`,
    );
    return this;
  }

  /**
   * Access to a bucket (see BucketCapability), named in the environment by `variable`; with `keyPrefix`,
   * object actions apply under that prefix only.
   */
  public useBucket(
    bucket: s3.IBucket,
    variable: EnvName,
    capabilities: readonly BucketCapability[],
    keyPrefix = '',
  ): this {
    if (capabilities.includes('head') || capabilities.includes('list')) {
      this.role.addToPolicy(
        new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }),
      );
    }
    const objectActions = capabilities.flatMap((c) =>
      c === 'head' || c === 'list' ? [] : OBJECT_ACTIONS[c],
    );
    if (objectActions.length > 0) {
      // Import the ARN explicitly when the bucket lives in another stack, so the resource below is the
      // same expression cdk-nag sees after synthesis and the acknowledgement can name it exactly.
      const bucketArn =
        Stack.of(bucket) === Stack.of(this)
          ? bucket.bucketArn
          : Stack.of(bucket).exportValue(bucket.bucketArn);
      const objects = `${bucketArn}/${keyPrefix}*`;
      this.role.addToPolicy(new iam.PolicyStatement({ actions: objectActions, resources: [objects] }));
      Validations.of(this).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagResource(this, objects)}]`,
        reason:
          `Object actions (${objectActions.join(', ')}) apply to object ARNs, so they name ${variable}'s ` +
          'objects with <bucket arn>/*: one bucket, only these actions. Keys are server-generated per video.',
      });
    }
    return this.addEnvironment({ [variable]: bucket.bucketName });
  }

  /** Item access to the state table (STATE_TABLE). */
  public useStateTable(table: dynamodb.ITable, access: 'read' | 'readwrite'): this {
    if (access === 'read') table.grantReadData(this.role);
    else table.grantReadWriteData(this.role);
    return this.addEnvironment({ STATE_TABLE: table.tableName });
  }

  /** secretsmanager:GetSecretValue on one secret (nothing else), its ARN in the environment as `variable`. */
  public useSecret(secret: secretsmanager.ISecret, variable: EnvName): this {
    this.role.addToPolicy(
      new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [secret.secretArn] }),
    );
    return this.addEnvironment({ [variable]: secret.secretArn });
  }

  /** Send messages to a queue, whose URL the function reads from the variable `ref` names. */
  public useQueue(queue: sqs.IQueue, ref: QueueRef): this {
    queue.grantSendMessages(this.role);
    return this.addEnvironment({ [queueUrlVariable(ref)]: queue.queueUrl });
  }

  /** The security group(s) of a VPC-attached function. */
  public get connections(): ec2.Connections {
    return this.function.connections;
  }
}

const SHARED_SECURITY_GROUP_ID = 'FunctionSecurityGroup';

/** The one security group of a stack's VPC functions (see AppFunctionProps.securityGroup). */
export function sharedFunctionSecurityGroup(scope: Construct, network: Network): ec2.ISecurityGroup {
  const stack = Stack.of(scope);
  const existing = stack.node.tryFindChild(SHARED_SECURITY_GROUP_ID) as ec2.SecurityGroup | undefined;
  return (
    existing ??
    new ec2.SecurityGroup(stack, SHARED_SECURITY_GROUP_ID, {
      vpc: network.vpc,
      description: 'VideoCloud functions in the VPC (they reach RDS Proxy; egress as Lambda defaults)',
      allowAllOutbound: true,
    })
  );
}

/** Where a handler finds Postgres through RDS Proxy (names match lambdas/shared/config.ts). */
export function databaseEnvironment(database: Database): Record<string, string> {
  return {
    DB_PROXY_HOST: database.proxy.endpoint,
    DB_PORT: String(database.proxyPort),
    DB_NAME: database.databaseName,
    DB_USER: database.appUser,
  };
}

/** `media-cleanup` -> `MediaCleanup`: construct ids from route-table and consumer-table entries. */
export function pascalCase(value: string): string {
  return value
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
}
