import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { StageConfig } from '../stage-config.ts';

export interface NetworkProps {
  /** Log retention and removal policy of the flow logs come from the stage. */
  readonly stage: StageConfig;
}

/**
 * The VPC that holds the database, RDS Proxy and the functions that talk to them. Subnets are isolated
 * (no internet route, no NAT gateway): everything the functions need is either inside the VPC or reached
 * through an endpoint. S3 and DynamoDB use free gateway endpoints. Interface endpoints (billed per hour
 * and AZ) exist only where a VPC function needs the service: Secrets Manager for the migration function's
 * master secret, SQS for handlers that enqueue work.
 */
export class Network extends Construct {
  public readonly vpc: ec2.Vpc;
  /** Where every VPC-attached resource of this app is placed. */
  public readonly subnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
  public readonly secretsManagerEndpoint: ec2.InterfaceVpcEndpoint;
  public readonly sqsEndpoint: ec2.InterfaceVpcEndpoint;
  public readonly flowLogGroup: logs.LogGroup;
  /** The VPC's address range, a literal so security-group rules that use it stay reviewable. */
  public readonly cidr = '10.0.0.0/16';

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const { stage } = props;

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(this.cidr),
      // RDS Proxy needs subnets in at least two AZs; more would only add endpoint cost.
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
      gatewayEndpoints: {
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3, subnets: [this.subnets] },
        DynamoDB: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB, subnets: [this.subnets] },
      },
    });

    // One group for the interface endpoints: HTTPS from inside the VPC, nothing else.
    const endpointSecurityGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
      vpc: this.vpc,
      description: 'VPC interface endpoints: HTTPS from inside the VPC only',
      allowAllOutbound: false,
    });
    endpointSecurityGroup.addIngressRule(ec2.Peer.ipv4(this.cidr), ec2.Port.tcp(443), 'HTTPS from the VPC');
    const interfaceEndpoint = (id: string, service: ec2.InterfaceVpcEndpointAwsService) =>
      this.vpc.addInterfaceEndpoint(id, {
        service,
        subnets: this.subnets,
        privateDnsEnabled: true,
        securityGroups: [endpointSecurityGroup],
        open: false,
      });
    // The migration function reads the RDS-managed master secret.
    this.secretsManagerEndpoint = interfaceEndpoint(
      'SecretsManager',
      ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
    );
    // Handlers that enqueue work (video deletion -> media-cleanup) send from inside the VPC.
    this.sqsEndpoint = interfaceEndpoint('Sqs', ec2.InterfaceVpcEndpointAwsService.SQS);

    this.flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
      retention: stage.logRetentionDays as logs.RetentionDays,
      removalPolicy: stage.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(this.flowLogGroup),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });
  }
}
