import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import { type ScheduledWorker, scheduledWorkerList } from '../../lambdas/events/schedules.ts';
import { outboxQueues } from '../../lambdas/shared/resources.ts';
import { AppFunction, pascalCase } from './app-function.ts';
import { allowEventOutbox, type ConsumerAccess } from './function-access.ts';
import type { EventPipelineProps } from './pipeline.ts';

/** What each scheduled worker (schedules.ts `entry`) may reach, beyond the database. */
const SCHEDULED_ACCESS: Record<
  string,
  Pick<ConsumerAccess, 'sendsTo' | 'uploadsBucket' | 'stateTable' | 'events'>
> = {
  // Re-queues media cleanup of deleted videos whose objects are still recorded as stored.
  'cleanup-sweeper': { sendsTo: ['mediaCleanup'] },
  // Publishes what the outbox still owes, to each topic's queue.
  'outbox-relay': { sendsTo: [...new Set(Object.values(outboxQueues))] },
  // Dispatches signed webhook attempts that are due (retries hours away, lost messages).
  'webhook-dispatcher': { sendsTo: ['webhookDeliveries'] },
  // Reads expired upload sessions, aborts their multipart uploads, deletes their videos (with events).
  'upload-expiry': { uploadsBucket: ['multipart'], stateTable: 'read', events: true },
};

/**
 * The scheduled workers of lambdas/events/schedules.ts (the table the local runtime builds its timers
 * from): one function and one EventBridge schedule (`rate(n minutes)`) each.
 */
export class ScheduledWorkers extends Construct {
  /** Keyed by schedules.ts `entry`. */
  public readonly functions: ReadonlyMap<string, AppFunction>;

  constructor(scope: Construct, id: string, props: EventPipelineProps) {
    super(scope, id);
    const functions = new Map<string, AppFunction>();
    for (const worker of scheduledWorkerList) functions.set(worker.entry, this.worker(worker, props));
    this.functions = functions;
  }

  private worker(worker: ScheduledWorker, props: EventPipelineProps): AppFunction {
    const access = SCHEDULED_ACCESS[worker.entry];
    if (!access) {
      throw new Error(
        `Scheduled worker "${worker.entry}" has no access declaration in lib/constructs/scheduled-workers.ts SCHEDULED_ACCESS`,
      );
    }
    const fn = new AppFunction(this, `Fn${pascalCase(worker.entry)}`, {
      entry: `lambdas/events/${worker.entry}.ts`,
      stage: props.stage,
      description: `VideoCloud ${props.stage.name}: ${worker.description}`.slice(0, 256),
      memoryMb: worker.memoryMb,
      timeout: Duration.seconds(worker.timeoutSeconds),
      environment: { ...props.environment },
      network: props.network,
    });
    fn.useDatabase(props.database);
    for (const key of access.sendsTo ?? []) fn.useQueue(props.queues.byKey[key].queue, key);
    if (access.uploadsBucket)
      fn.useBucket(props.storage.uploadsBucket, 'UPLOADS_BUCKET', access.uploadsBucket);
    if (access.stateTable) fn.useStateTable(props.stateTable.table, access.stateTable);
    if (access.events) allowEventOutbox(fn, props.queues);
    new events.Rule(this, `Every${pascalCase(worker.entry)}`, {
      description: `VideoCloud ${props.stage.name}: ${worker.entry} every ${worker.everyMinutes} minutes`,
      schedule: events.Schedule.rate(Duration.minutes(worker.everyMinutes)),
      // A missed run is made up by the next one; retrying a sweep later would only overlap it.
      targets: [new eventTargets.LambdaFunction(fn.function, { retryAttempts: 0 })],
    });
    return fn;
  }
}
