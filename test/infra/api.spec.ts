import { describe, expect, test } from '@jest/globals';
import { Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { routeList } from '../../lambdas/api/routes.ts';
import { buildStage, resourcesOfType } from './app.ts';

describe.each(['dev', 'prod'] as const)('REST API (%s)', (stageName) => {
  const { stateless, statelessTemplate: template, stage } = buildStage(stageName);

  test('the stage throttles every method with the stage limits and logs errors', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: stage.name,
      TracingEnabled: true,
      MethodSettings: Match.arrayWith([
        Match.objectLike({
          HttpMethod: '*',
          ResourcePath: '/*',
          ThrottlingRateLimit: stage.throttle.rateLimit,
          ThrottlingBurstLimit: stage.throttle.burstLimit,
          LoggingLevel: 'ERROR',
          DataTraceEnabled: false,
        }),
      ]),
    });
  });

  test('access logs are JSON, in a log group with the stage retention', () => {
    const [[, apiStage]] = resourcesOfType(template, 'AWS::ApiGateway::Stage') as [
      [string, { Properties: { AccessLogSetting: { DestinationArn: unknown; Format: string } } }],
    ];
    const format = JSON.parse(apiStage.Properties.AccessLogSetting.Format);
    expect(format).toMatchObject({ requestId: '$context.requestId', status: '$context.status' });
    expect(apiStage.Properties.AccessLogSetting.DestinationArn).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^ApiAccessLogs/), 'Arn'],
    });
  });

  test('execution logging has its account role, kept when the stack goes', () => {
    template.resourceCountIs('AWS::ApiGateway::Account', 1);
    const [account] = resourcesOfType(template, 'AWS::ApiGateway::Account');
    expect(account?.[1].DeletionPolicy).toBe('Retain');
  });

  test('the API is regional', () => {
    template.hasResourceProperties('AWS::ApiGateway::RestApi', {
      EndpointConfiguration: { Types: ['REGIONAL'] },
    });
  });

  test('every route of the route table is a method, proxied to the function of its entry', () => {
    const methods = stateless.api.restApi.methods.filter(
      (m) => m.httpMethod !== 'OPTIONS' && m.httpMethod !== 'ANY',
    );
    const declared = routeList.map((r) => `${r.method} ${r.path}`).sort();
    expect(methods.map((m) => `${m.httpMethod} ${m.resource.path}`).sort()).toEqual(declared);
    const cfnMethods = template.findResources('AWS::ApiGateway::Method');
    for (const route of routeList) {
      const method = methods.find((m) => m.httpMethod === route.method && m.resource.path === route.path)!;
      const fn = stateless.api.functions.get(route.entry)!.function;
      const fnId = Stack.of(stateless).getLogicalId(fn.node.defaultChild as CfnFunction);
      const props =
        cfnMethods[Stack.of(stateless).getLogicalId(method.node.defaultChild as CfnFunction)]!.Properties;
      expect(props.Integration.Type).toBe('AWS_PROXY');
      expect(JSON.stringify(props.Integration.Uri)).toContain(`"${fnId}","Arn"`);
    }
  });

  test('any other method on a route path is a 405 with Allow from the gateway (a mock), never a function', () => {
    const methods = stateless.api.restApi.methods.filter((m) => m.httpMethod === 'ANY');
    const paths = [...new Set(routeList.map((r) => r.path))].sort();
    expect(methods.map((m) => m.resource.path).sort()).toEqual(paths);
    const cfnMethods = template.findResources('AWS::ApiGateway::Method');
    for (const method of methods) {
      const props =
        cfnMethods[Stack.of(stateless).getLogicalId(method.node.defaultChild as CfnFunction)]!.Properties;
      const allowed = routeList.filter((r) => r.path === method.resource.path).map((r) => r.method);
      expect(props.AuthorizationType).toBe('NONE');
      expect(props.Integration).toMatchObject({
        Type: 'MOCK',
        IntegrationResponses: [
          {
            StatusCode: '405',
            ResponseParameters: {
              'method.response.header.Allow': `'${allowed.join(', ')}'`,
              'method.response.header.Content-Type': "'application/problem+json'",
              'method.response.header.X-Request-Id': 'context.requestId',
            },
          },
        ],
      });
      expect(props.Integration.RequestTemplates).toBeUndefined();
      const body = JSON.parse(
        props.Integration.IntegrationResponses[0].ResponseTemplates['application/json'],
      );
      expect(body).toMatchObject({ type: '/problems/method-not-allowed', status: 405 });
      expect(props.MethodResponses).toEqual([
        expect.objectContaining({
          StatusCode: '405',
          ResponseParameters: expect.objectContaining({ 'method.response.header.Allow': true }),
        }),
      ]);
    }
  });

  test('CORS preflight answers only the configured web origins', () => {
    const options = resourcesOfType(template, 'AWS::ApiGateway::Method').filter(
      ([, m]) => m.Properties!.HttpMethod === 'OPTIONS',
    );
    // The stage's origins plus the deployed web app (WebHosting), so there is always at least one.
    expect(options.length).toBe(new Set(routeList.map((r) => r.path)).size);
    for (const [, method] of options) {
      const params = JSON.stringify(method.Properties!.Integration);
      if (stage.webOrigins[0]) expect(params).toContain(stage.webOrigins[0]);
      expect(params).toContain('WebDistribution');
      expect(params).not.toContain("'*'");
    }
  });
});
