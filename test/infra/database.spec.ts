import { describe, expect, test } from '@jest/globals';
import { Match } from 'aws-cdk-lib/assertions';
import { buildStage, resourcesOfType } from './app.ts';

describe.each(['dev', 'prod'] as const)('database (%s)', (stageName) => {
  const { statefulTemplate: template, stage } = buildStage(stageName);

  test('one encrypted, private Postgres 17 instance with IAM auth and RDS-managed master password', () => {
    template.resourceCountIs('AWS::RDS::DBInstance', 1);
    template.hasResourceProperties('AWS::RDS::DBInstance', {
      Engine: 'postgres',
      EngineVersion: '17',
      StorageEncrypted: true,
      PubliclyAccessible: false,
      EnableIAMDatabaseAuthentication: true,
      ManageMasterUserPassword: true,
      MasterUserPassword: Match.absent(),
      DBName: 'videocloud',
    });
  });

  test(`automated backups are kept ${stage.backupRetentionDays} day(s)`, () => {
    template.hasResourceProperties('AWS::RDS::DBInstance', {
      BackupRetentionPeriod: stage.backupRetentionDays,
    });
    expect(stage.backupRetentionDays).toBeGreaterThanOrEqual(1);
  });

  test('deletion protection, removal policy and Multi-AZ follow the stage', () => {
    const [[, instance]] = resourcesOfType(template, 'AWS::RDS::DBInstance') as [
      [
        string,
        { Properties: Record<string, unknown>; DeletionPolicy?: string; UpdateReplacePolicy?: string },
      ],
    ];
    expect(instance.Properties.DeletionProtection).toBe(stage.deletionProtection);
    expect(instance.Properties.MultiAZ).toBe(stage.multiAz);
    expect(instance.DeletionPolicy).toBe(stage.retainData ? 'Snapshot' : 'Delete');
    expect(instance.UpdateReplacePolicy).toBe(stage.retainData ? 'Snapshot' : 'Delete');
  });

  test('RDS Proxy requires TLS and end-to-end IAM authentication (no secrets anywhere)', () => {
    template.resourceCountIs('AWS::RDS::DBProxy', 1);
    template.hasResourceProperties('AWS::RDS::DBProxy', {
      EngineFamily: 'POSTGRESQL',
      RequireTLS: true,
      DefaultAuthScheme: 'IAM_AUTH',
      DebugLogging: false,
      Auth: Match.absent(),
    });
  });

  test('the proxy role may connect to the instance as the app user only', () => {
    const [proxy] = resourcesOfType(template, 'AWS::RDS::DBProxy');
    const roleId = (proxy![1].Properties!.RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const policies = resourcesOfType(template, 'AWS::IAM::Policy').filter(([, p]) =>
      (p.Properties!.Roles as Array<{ Ref: string }>).some((r) => r.Ref === roleId),
    );
    const statements = policies.flatMap(
      ([, p]) => (p.Properties!.PolicyDocument as { Statement: Array<Record<string, unknown>> }).Statement,
    );
    expect(statements).toHaveLength(1);
    expect(statements[0]!.Action).toBe('rds-db:connect');
    expect(JSON.stringify(statements[0]!.Resource)).toMatch(/dbuser:.*\/videocloud_app"/);
  });

  test('the instance admits only the proxy and the migration function, never the internet', () => {
    for (const [, sg] of resourcesOfType(template, 'AWS::EC2::SecurityGroup')) {
      for (const rule of (sg.Properties!.SecurityGroupIngress as Array<Record<string, unknown>>) ?? []) {
        expect(rule.CidrIp).not.toBe('0.0.0.0/0');
        expect(rule.CidrIpv6).not.toBe('::/0');
      }
    }
    for (const [, rule] of resourcesOfType(template, 'AWS::EC2::SecurityGroupIngress')) {
      expect(rule.Properties!.CidrIp).toBeUndefined();
      expect(rule.Properties!.SourceSecurityGroupId).toBeDefined();
    }
  });

  test('the VPC has no internet route: isolated subnets, no NAT or internet gateway, flow logs on', () => {
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::EC2::InternetGateway', 0);
    template.resourceCountIs('AWS::EC2::FlowLog', 1);
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      ServiceName: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith(['.s3'])]) }),
    });
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      ServiceName: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith(['.dynamodb'])]) }),
    });
  });
});
