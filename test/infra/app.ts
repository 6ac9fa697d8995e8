import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CfnRole } from 'aws-cdk-lib/aws-iam';
import { REPO_ROOT } from '../../lib/constructs/app-function.ts';
import { addVideoCloudStacks, type VideoCloudStacks } from '../../lib/videocloud.ts';

export type StageName = 'dev' | 'prod';

export interface BuiltApp extends VideoCloudStacks {
  readonly app: App;
  readonly statefulTemplate: Template;
  readonly statelessTemplate: Template;
}

const cdkContext: Record<string, unknown> = JSON.parse(
  readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8'),
).context;
const built = new Map<string, BuiltApp>();

/**
 * Both stacks of a stage, built the way bin/videocloud.ts builds them (same cdk.json context), minus the
 * slow parts that are not under test: no esbuild bundling, no built-in CloudFormation schema validation,
 * no construct stack traces or tree.json. Synthesized once per stage (and extra context) for every
 * spec: they all run inside stacks.test.ts, so they share this module.
 */
export function buildStage(stage: StageName, extraContext: Record<string, unknown> = {}): BuiltApp {
  const key = `${stage}:${JSON.stringify(extraContext)}`;
  const cached = built.get(key);
  if (cached) return cached;
  const app = new App({
    context: {
      ...cdkContext,
      stage,
      'aws:cdk:bundling-stacks': [],
      // Stack traces for every construct are what makes synth slow under jest's source maps.
      'aws:cdk:disable-stack-trace': true,
      'aws:cdk:disable-creation-stack-traces': true,
      ...extraContext,
    },
    builtinCloudFormationValidation: false,
    treeMetadata: false,
  });
  const stacks = addVideoCloudStacks(app);
  // One synth (cross-stack references resolved, as in a real synth); templates are read from the assembly.
  const assembly = app.synth();
  const result: BuiltApp = {
    app,
    ...stacks,
    statefulTemplate: Template.fromJSON(assembly.getStackByName(stacks.stateful.stackName).template),
    statelessTemplate: Template.fromJSON(assembly.getStackByName(stacks.stateless.stackName).template),
  };
  built.set(key, result);
  return result;
}

/** A template's resources of one type, as [logicalId, resource] pairs. */
export function resourcesOfType(
  template: Template,
  type: string,
): Array<
  [string, { Properties?: Record<string, unknown>; DeletionPolicy?: string; UpdateReplacePolicy?: string }]
> {
  return Object.entries(template.findResources(type));
}

/**
 * Our own functions: everything but CDK's custom-resource providers (whose handler is `__entrypoint__`,
 * or Python for BucketDeployment) and the Provider framework's `framework.onEvent`.
 */
export function appFunctions(template: Template) {
  return resourcesOfType(template, 'AWS::Lambda::Function').filter(
    ([, fn]) =>
      fn.Properties?.Handler === 'index.handler' && String(fn.Properties?.Runtime).startsWith('nodejs'),
  );
}

/** One IAM policy statement as the synthesized template holds it. */
export type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

/** Every statement of the policies attached to `role` (a function's role, say) in `stack`'s template. */
export function statementsOfRole(
  template: Template,
  stack: Stack,
  role: { node: { defaultChild?: unknown } },
): Statement[] {
  const roleId = Stack.of(stack).getLogicalId(role.node.defaultChild as CfnRole);
  return resourcesOfType(template, 'AWS::IAM::Policy')
    .filter(([, p]) => (p.Properties!.Roles as Array<{ Ref?: string }>).some((r) => r.Ref === roleId))
    .flatMap(([, p]) => (p.Properties!.PolicyDocument as { Statement: Statement[] }).Statement);
}
