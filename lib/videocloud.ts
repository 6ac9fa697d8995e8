import { type App, Tags } from 'aws-cdk-lib';
import { EdgeWafStack } from './edge-waf-stack.ts';
import { loadStageConfig, type StageConfig } from './stage-config.ts';
import { StatefulStack } from './stateful-stack.ts';
import { StatelessStack } from './stateless-stack.ts';

const CROSS_STACK_REFERENCES = '@aws-cdk/core:defaultCrossStackReferences';

export interface VideoCloudStacks {
  readonly stage: StageConfig;
  readonly stateful: StatefulStack;
  readonly stateless: StatelessStack;
  readonly edgeWaf: EdgeWafStack;
}

/**
 * Adds both stacks of the stage selected by context (`-c stage=...`) to the app. Shared by the CDK app
 * (bin/videocloud.ts) and the infrastructure tests, so the tests check exactly what is deployed.
 */
export function addVideoCloudStacks(app: App): VideoCloudStacks {
  // Lock in today's behaviour (exports that protect their consumers) unless cdk.json decides otherwise;
  // must be set before any stack exists.
  if (app.node.tryGetContext(CROSS_STACK_REFERENCES) === undefined) {
    app.node.setContext(CROSS_STACK_REFERENCES, 'strong');
  }
  const stage = loadStageConfig(app.node);
  // Environment-agnostic: synth needs no credentials and deploys go to the CLI's account and region.
  const stateful = new StatefulStack(app, `VideoCloud-${stage.name}-Stateful`, {
    stage,
    description: `VideoCloud ${stage.name}: network, database, buckets, state table, queues, user pool`,
    terminationProtection: stage.deletionProtection,
  });
  const stateless = new StatelessStack(app, `VideoCloud-${stage.name}-Stateless`, {
    stage,
    description: `VideoCloud ${stage.name}: API, functions and deploy-time migrations`,
    network: stateful.network,
    database: stateful.database,
    storage: stateful.storage,
    stateTable: stateful.stateTable,
    queues: stateful.queues,
    auth: stateful.auth,
    delivery: stateful.delivery,
    web: stateful.web,
  });
  const edgeWaf = new EdgeWafStack(app, `VideoCloud-${stage.name}-EdgeWaf`, {
    stage,
    description: `VideoCloud ${stage.name}: web ACL for the CloudFront distributions (us-east-1)`,
  });
  Tags.of(app).add('project', 'videocloud');
  Tags.of(app).add('stage', stage.name);
  return { stage, stateful, stateless, edgeWaf };
}
