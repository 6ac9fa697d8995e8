import { describe, expect, test } from '@jest/globals';
import { Stack } from 'aws-cdk-lib';
import type { CfnRole } from 'aws-cdk-lib/aws-iam';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { routeList } from '../../lambdas/api/routes.ts';
import type { AppFunction } from '../../lib/constructs/app-function.ts';
import { appFunctions, buildStage, resourcesOfType, statementsOfRole } from './app.ts';

/** Every variable lambdas/shared/config.ts requires (or reads) that the CDK app is responsible for. */
const CONFIG_VARIABLES = [
  'VIDEOCLOUD_VERSION',
  'VIDEOCLOUD_STAGE',
  'DB_PROXY_HOST',
  'DB_PORT',
  'DB_NAME',
  'DB_USER',
  'UPLOADS_BUCKET',
  'MEDIA_BUCKET',
  'STATE_TABLE',
  'COGNITO_USER_POOL_ID',
  'COGNITO_CLIENT_ID',
  'API_SCOPE_PREFIX',
  'CORS_ORIGINS',
  'LOG_LEVEL',
  'POWERTOOLS_SERVICE_NAME',
];

describe.each(['dev', 'prod'] as const)('functions (%s)', (stageName) => {
  const { stateless, statelessTemplate: template, stage } = buildStage(stageName);
  const logicalId = (construct: { node: { defaultChild?: unknown } }) =>
    Stack.of(stateless).getLogicalId(construct.node.defaultChild as CfnFunction);
  const functionProps = (fn: AppFunction) =>
    template.findResources('AWS::Lambda::Function')[logicalId(fn.function)]!.Properties;
  const statementsOf = (fn: AppFunction) => statementsOfRole(template, stateless, fn.role);
  const actionsOf = (fn: AppFunction) => statementsOf(fn).flatMap((s) => [s.Action].flat());
  const entries = [...new Set(routeList.map((r) => r.entry))];
  const api = stateless.api.functions;

  test('one function per distinct route entry, plus the migration function and the pipeline functions', () => {
    expect([...api.keys()].sort()).toEqual([...entries].sort());
    // Pipeline: one per queue consumer and scheduled worker, and the MediaConvert status handler
    // (tested in pipeline.test.ts).
    const pipeline = stateless.pipeline.consumers.size + stateless.pipeline.scheduled.functions.size + 1;
    expect(appFunctions(template)).toHaveLength(entries.length + 1 + pipeline);
  });

  test.each(appFunctions(template).map(([id]) => id))(
    '%s runs nodejs24.x on arm64 with active tracing, source maps and explicit sizing',
    (id) => {
      const props = template.findResources('AWS::Lambda::Function')[id]!.Properties;
      expect(props.Runtime).toBe('nodejs24.x');
      expect(props.Architectures).toEqual(['arm64']);
      expect(props.TracingConfig).toEqual({ Mode: 'Active' });
      expect(props.Environment.Variables.NODE_OPTIONS).toBe('--enable-source-maps');
      expect(props.MemorySize).toBeGreaterThanOrEqual(128);
      expect(props.Timeout).toBeGreaterThan(0);
      expect(props.LoggingConfig.LogGroup).toEqual({ Ref: expect.any(String) });
    },
  );

  test(`every log group keeps ${stage.logRetentionDays} days`, () => {
    for (const [, group] of resourcesOfType(template, 'AWS::Logs::LogGroup')) {
      expect(group.Properties!.RetentionInDays).toBe(stage.logRetentionDays);
    }
  });

  test('no function role uses an AWS managed policy (they would allow writing to every log group)', () => {
    const roles = template.findResources('AWS::IAM::Role');
    for (const fn of [...api.values(), stateless.migrations.handler]) {
      const role = roles[Stack.of(stateless).getLogicalId(fn.role.node.defaultChild as CfnRole)]!;
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });

  test.each(entries)('the %s function gets every config variable', (entry) => {
    const variables = functionProps(api.get(entry)!).Environment.Variables;
    for (const name of CONFIG_VARIABLES) expect(variables).toHaveProperty(name);
    expect(variables.DB_USER).toBe('videocloud_app');
    // The stage's origins, then the deployed web app's (WebHosting, imported from the stateful stack).
    expect(JSON.stringify(variables.CORS_ORIGINS)).toContain([...stage.webOrigins, 'https://'].join(','));
    expect(JSON.stringify(variables.CORS_ORIGINS)).toContain('WebDistribution');
  });

  test('health: in the VPC, rds-db:connect as the app user, HeadBucket on both buckets and nothing else', () => {
    const health = api.get('health')!;
    expect(functionProps(health).VpcConfig).toBeDefined();
    const statements = statementsOf(health);
    const connect = statements.find((s) => s.Action === 'rds-db:connect');
    expect(JSON.stringify(connect?.Resource)).toMatch(/dbuser:.*\/videocloud_app"/);
    const listBucket = statements.find((s) => [s.Action].flat().includes('s3:ListBucket'));
    expect([listBucket!.Resource].flat()).toHaveLength(2);
    expect(actionsOf(health).filter((a) => a.startsWith('s3:'))).toEqual(['s3:ListBucket']);
    expect(actionsOf(health).some((a) => a.startsWith('dynamodb:') || a.startsWith('sqs:'))).toBe(false);
  });

  test('health may reach the proxy on 5432 from its own security group', () => {
    const healthSg = Stack.of(stateless).getLogicalId(
      api.get('health')!.connections.securityGroups[0]!.node.defaultChild as CfnFunction,
    );
    const rules = resourcesOfType(template, 'AWS::EC2::SecurityGroupIngress').filter(
      ([, r]) =>
        JSON.stringify(r.Properties!.SourceSecurityGroupId) ===
        JSON.stringify({ 'Fn::GetAtt': [healthSg, 'GroupId'] }),
    );
    expect(rules).toHaveLength(1);
    expect(rules[0]![1].Properties).toMatchObject({ IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432 });
  });

  test.each(['openapi', 'docs'])('%s has no data access and stays out of the VPC', (entry) => {
    const fn = api.get(entry)!;
    expect(functionProps(fn).VpcConfig).toBeUndefined();
    expect(new Set(actionsOf(fn))).toEqual(
      new Set([
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'xray:PutTraceSegments',
        'xray:PutTelemetryRecords',
      ]),
    );
  });

  test('upload handlers touch only the uploads bucket objects, never delete, and no other bucket', () => {
    const uploadEntries = entries.filter((e) => e.startsWith('uploads-'));
    for (const entry of uploadEntries) {
      const fn = api.get(entry)!;
      const s3 = statementsOf(fn).filter((s) => [s.Action].flat().some((a) => a.startsWith('s3:')));
      for (const statement of s3) {
        expect([statement.Action].flat()).not.toContain('s3:DeleteObject');
        expect(JSON.stringify(statement.Resource)).toContain('StorageUploads');
      }
      expect(functionProps(fn).VpcConfig).toBeDefined();
    }
  });

  test('videos-delete may send to the media-cleanup queue and abort an open upload of its video', () => {
    const fn = api.get('videos-delete')!;
    expect(actionsOf(fn)).toEqual(expect.arrayContaining(['sqs:SendMessage', 's3:AbortMultipartUpload']));
    expect(actionsOf(fn)).not.toContain('s3:DeleteObject');
    expect(functionProps(fn).Environment.Variables.MEDIA_CLEANUP_QUEUE_URL).toBeDefined();
  });

  test('the migration runs from a deploy-time trigger, before any API function is updated', () => {
    const migrate = stateless.migrations.handler;
    const props = functionProps(migrate);
    expect(props.VpcConfig).toBeDefined();
    expect(Object.keys(props.Environment.Variables)).toEqual(
      expect.arrayContaining(['DB_HOST', 'DB_PORT', 'DB_NAME', 'DB_SECRET_ARN', 'APP_DB_USER']),
    );
    expect(actionsOf(migrate)).toEqual(expect.arrayContaining(['secretsmanager:GetSecretValue']));
    const triggers = resourcesOfType(template, 'Custom::Trigger');
    expect(triggers).toHaveLength(1);
    const [[triggerId, trigger]] = triggers as [[string, { Properties: Record<string, unknown> }]];
    expect(trigger.Properties.InvocationType).toBe('RequestResponse');
    // executeOnHandlerChange: the trigger points at the function's current version, so it re-runs on change.
    expect(JSON.stringify(trigger.Properties.HandlerArn)).toContain('CurrentVersion');
    for (const fn of api.values()) {
      const dependsOn = template.toJSON().Resources[logicalId(fn.function)].DependsOn as string[];
      expect(dependsOn).toContain(triggerId);
    }
    expect(stateless.dependencies).toContain(buildStage(stageName).stateful);
  });
});
