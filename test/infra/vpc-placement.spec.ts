/**
 * Which API functions run in the VPC, and why: only those that talk to Postgres (RDS Proxy is reachable
 * from inside the VPC only). Authenticated routes do, because the auth middleware (lambdas/http/auth.ts,
 * wired in lambdas/api/edge-ports.ts) looks API keys up and mirrors callers into Postgres, and /v1/health
 * pings the database. The public documentation routes reach nothing private and stay out, with no grants.
 * VPC functions share one security group, with one rule at the proxy.
 */
import { describe, expect, test } from '@jest/globals';
import { Stack } from 'aws-cdk-lib';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { routeList } from '../../lambdas/api/routes.ts';
import { buildStage, resourcesOfType } from './app.ts';

/** Why each API entry is in the VPC; an entry not named here must be outside it. */
const IN_VPC_BECAUSE: Record<string, string> = {
  health: 'pings the database',
  ...Object.fromEntries(
    routeList
      .filter((route) => route.auth !== 'none')
      .map((route) => [route.entry, 'authenticated: API-key lookup and user mirror in Postgres']),
  ),
};
const OUTSIDE_VPC = ['docs', 'openapi'];

describe.each(['dev', 'prod'] as const)('VPC placement (%s)', (stageName) => {
  const { stateless, statelessTemplate: template } = buildStage(stageName);
  const functions = template.findResources('AWS::Lambda::Function');
  const propsOf = (entry: string) =>
    functions[
      Stack.of(stateless).getLogicalId(
        stateless.api.functions.get(entry)!.function.node.defaultChild as CfnFunction,
      )
    ]!.Properties;
  const entries = [...new Set(routeList.map((route) => route.entry))].sort();

  test('exactly the entries with a reason are in the VPC; the others are docs and openapi', () => {
    const inVpc = entries.filter((entry) => propsOf(entry).VpcConfig !== undefined);
    expect(inVpc).toEqual(Object.keys(IN_VPC_BECAUSE).sort());
    expect(entries.filter((entry) => !inVpc.includes(entry))).toEqual(OUTSIDE_VPC);
  });

  test.each(OUTSIDE_VPC)('%s has no database, state-table, bucket, queue or secret grant', (entry) => {
    const roleId = Stack.of(stateless).getLogicalId(
      stateless.api.functions.get(entry)!.role.node.defaultChild as never,
    );
    const actions = resourcesOfType(template, 'AWS::IAM::Policy')
      .filter(([, p]) => (p.Properties!.Roles as Array<{ Ref?: string }>).some((r) => r.Ref === roleId))
      .flatMap(
        ([, p]) => (p.Properties!.PolicyDocument as { Statement: Array<{ Action: unknown }> }).Statement,
      )
      .flatMap((s) => [s.Action].flat() as string[]);
    expect(actions.filter((a) => !/^(logs|xray):/.test(a))).toEqual([]);
  });

  test('every VPC function but the migration shares one security group, with one rule to the proxy', () => {
    const groups = new Map<string, number>();
    for (const [, fn] of Object.entries(functions)) {
      const ids = fn.Properties.VpcConfig?.SecurityGroupIds as unknown[] | undefined;
      if (!ids) continue;
      expect(ids).toHaveLength(1);
      const key = JSON.stringify(ids[0]);
      groups.set(key, (groups.get(key) ?? 0) + 1);
    }
    const counts = [...groups.values()].sort((a, b) => a - b);
    // The migration function alone in its own group (it reaches the database instance), everyone else in one.
    expect(counts[0]).toBe(1);
    expect(counts).toHaveLength(2);
    expect(counts[1]).toBeGreaterThanOrEqual(Object.keys(IN_VPC_BECAUSE).length);
    expect(resourcesOfType(template, 'AWS::EC2::SecurityGroup')).toHaveLength(2);

    const [sharedKey] = [...groups.entries()].find(([, n]) => n > 1)!;
    const sharedId = JSON.parse(sharedKey)['Fn::GetAtt'][0];
    const fromShared = resourcesOfType(template, 'AWS::EC2::SecurityGroupIngress').filter(
      ([, rule]) =>
        JSON.stringify(rule.Properties!.SourceSecurityGroupId) ===
        JSON.stringify({ 'Fn::GetAtt': [sharedId, 'GroupId'] }),
    );
    expect(fromShared).toHaveLength(1);
    expect(fromShared[0]![1].Properties).toMatchObject({ IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432 });
  });
});
