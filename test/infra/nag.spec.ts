import { describe, expect, test } from '@jest/globals';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { buildStage } from './app.ts';

/** Every acknowledgement recorded with Validations.of(x).acknowledge() under `root`. */
function acknowledgements(root: IConstruct) {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          path: construct.node.path,
          id: id.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );
}

describe.each(['dev', 'prod'] as const)('cdk-nag AwsSolutions (%s)', (stageName) => {
  const { stateful, stateless, edgeWaf } = buildStage(stageName);

  test.each([
    ['Stateful', stateful],
    ['Stateless', stateless],
    ['EdgeWaf', edgeWaf],
  ])('%s stack has no unacknowledged finding, error or warning', (_, stack) => {
    const report = new AwsSolutionsChecks().validateScope(stack);
    const findings = report.violations.map(
      (v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
    );
    expect(findings).toEqual([]);
  });

  test('every acknowledgement names a rule and gives a specific reason (>= 20 characters)', () => {
    const all = [...acknowledgements(stateful), ...acknowledgements(stateless)];
    expect(all.length).toBeGreaterThan(0);
    for (const ack of all) {
      expect({ ...ack, ok: ack.reason.trim().length >= 20 }).toMatchObject({ ok: true });
    }
  });
});

test('the check itself works: an unlogged bucket is reported', () => {
  const app = new App();
  const stack = new Stack(app, 'Probe');
  new s3.Bucket(stack, 'Unlogged', { enforceSSL: true });
  const report = new AwsSolutionsChecks().validateScope(stack);
  expect(report.violations.map((v) => v.ruleName)).toContain('AwsSolutions-S1');
});
