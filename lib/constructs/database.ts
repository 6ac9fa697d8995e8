import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { StageConfig } from '../stage-config.ts';
import type { Network } from './network.ts';

export interface DatabaseProps {
  readonly stage: StageConfig;
  readonly network: Network;
}

/** The Postgres role the application logs in as, with IAM tokens only (the migration creates it). */
export const APP_DB_USER = 'videocloud_app';
export const DATABASE_NAME = 'videocloud';

/**
 * The metadata database: one encrypted RDS for PostgreSQL instance in isolated subnets, fronted by RDS
 * Proxy with end-to-end IAM authentication. Clients present a short-lived IAM token to the proxy and the
 * proxy presents its own IAM token to the database, so no application password exists anywhere. The only
 * password is the master one, generated and rotated by RDS itself (`manageMasterUserPassword`) and read by
 * nothing but the deploy-time migration.
 */
export class Database extends Construct {
  public readonly instance: rds.DatabaseInstance;
  public readonly proxy: rds.DatabaseProxy;
  /** The RDS-managed master secret (JSON with `username` and `password`). */
  public readonly masterSecret: secretsmanager.ISecret;
  public readonly databaseName = DATABASE_NAME;
  public readonly appUser = APP_DB_USER;
  /** RDS Proxy always listens on the engine's default port. */
  public readonly proxyPort = 5432;
  public readonly instancePort = 5432;
  /** Clients of the proxy get an ingress rule on this group. */
  public readonly proxySecurityGroup: ec2.SecurityGroup;
  /** Admits only the proxy and the migration function. */
  public readonly instanceSecurityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: DatabaseProps) {
    super(scope, id);
    const { stage, network } = props;
    const instanceIdentifier = `videocloud-${stage.name}`;

    // A fixed identifier gives the postgresql log group a known name, so we can own its retention
    // instead of letting RDS create a never-expiring one. It also makes CloudFormation refuse any change
    // that would replace (and so empty) the database rather than silently doing it.
    const postgresLogs = new logs.LogGroup(this, 'PostgresLogs', {
      logGroupName: `/aws/rds/instance/${instanceIdentifier}/postgresql`,
      retention: stage.logRetentionDays as logs.RetentionDays,
      removalPolicy: stage.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });

    this.instanceSecurityGroup = new ec2.SecurityGroup(this, 'InstanceSecurityGroup', {
      vpc: network.vpc,
      description: `VideoCloud ${stage.name} Postgres instance: admits RDS Proxy and the migration function`,
      allowAllOutbound: false,
    });
    this.proxySecurityGroup = new ec2.SecurityGroup(this, 'ProxySecurityGroup', {
      vpc: network.vpc,
      description: `VideoCloud ${stage.name} RDS Proxy: admits the functions that use the database`,
      // Isolated subnets: egress can only reach the VPC and its endpoints anyway.
      allowAllOutbound: true,
    });

    this.instance = new rds.DatabaseInstance(this, 'Instance', {
      instanceIdentifier,
      // Major version only: RDS applies minor upgrades itself and the template never drifts from it.
      engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_17 }),
      instanceType: new ec2.InstanceType(stage.dbInstanceType),
      vpc: network.vpc,
      vpcSubnets: network.subnets,
      securityGroups: [this.instanceSecurityGroup],
      port: this.instancePort,
      databaseName: DATABASE_NAME,
      credentials: rds.Credentials.fromUsername('videocloud_admin'),
      manageMasterUserPassword: true,
      iamAuthentication: true,
      storageEncrypted: true,
      storageType: rds.StorageType.GP3,
      allocatedStorage: 20,
      maxAllocatedStorage: 200,
      multiAz: stage.multiAz,
      publiclyAccessible: false,
      autoMinorVersionUpgrade: true,
      caCertificate: rds.CaCertificate.RDS_CA_RSA2048_G1,
      backupRetention: Duration.days(stage.backupRetentionDays),
      copyTagsToSnapshot: true,
      deletionProtection: stage.deletionProtection,
      // SNAPSHOT keeps a final snapshot when the instance is deleted or replaced; dev data is disposable.
      removalPolicy: stage.retainData ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY,
      cloudwatchLogsExports: ['postgresql'],
    });
    this.instance.node.addDependency(postgresLogs);
    this.masterSecret = this.instance.secret!;

    Validations.of(this.instance).acknowledge({
      id: 'AwsSolutions-RDS11',
      reason:
        'The instance sits in isolated subnets and admits only the proxy and migration security groups; ' +
        'a non-default port would add no protection, and RDS Proxy listens on 5432 regardless.',
    });
    if (!stage.multiAz) {
      Validations.of(this.instance).acknowledge({
        id: 'AwsSolutions-RDS3',
        reason: `Stage ${stage.name} holds disposable data and runs single-AZ to halve its cost; stages that retain data run Multi-AZ.`,
      });
    }
    if (!stage.deletionProtection) {
      Validations.of(this.instance).acknowledge({
        id: 'AwsSolutions-RDS10',
        reason: `Stage ${stage.name} is torn down and recreated freely; deletion protection is on for every stage that sets deletionProtection.`,
      });
    }

    // End-to-end IAM: the proxy itself needs rds-db:connect on the instance for the app user.
    const proxyRole = new iam.Role(this, 'ProxyRole', {
      assumedBy: new iam.ServicePrincipal('rds.amazonaws.com'),
      description: `RDS Proxy of VideoCloud ${stage.name}: IAM login to the database as ${APP_DB_USER}`,
    });
    this.instance.grantConnect(proxyRole, APP_DB_USER);

    this.proxy = new rds.DatabaseProxy(this, 'Proxy', {
      proxyTarget: rds.ProxyTarget.fromInstance(this.instance),
      vpc: network.vpc,
      vpcSubnets: network.subnets,
      role: proxyRole,
      securityGroups: [this.proxySecurityGroup],
      // End-to-end IAM: clients log in to the proxy with IAM tokens, the proxy logs in to Postgres with its
      // own. With no secrets attached there is no password-based way in through the proxy at all.
      defaultAuthScheme: rds.DefaultAuthScheme.IAM_AUTH,
      requireTLS: true,
      // Debug logging would write SQL text (and so user data) to CloudWatch.
      debugLogging: false,
      // Lambda connections are short-lived; drop idle ones quickly instead of the 30-minute default.
      idleClientTimeout: Duration.minutes(5),
      borrowTimeout: Duration.seconds(10),
    });
    // The instance's only ingress besides the migration function.
    this.instance.connections.allowDefaultPortFrom(this.proxy, 'RDS Proxy to Postgres');
  }
}
