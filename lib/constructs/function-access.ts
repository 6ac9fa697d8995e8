/** What a pipeline function may reach, and the grants both consumers and scheduled workers use. */

import {
  type deadLetterTargets,
  outboxQueues,
  outboxTopics,
  type QueueKey,
} from '../../lambdas/shared/resources.ts';
import type { AppFunction, BucketCapability } from './app-function.ts';
import type { Queues } from './queues.ts';

/** What each consumer (consumers.ts `entry`) may reach. */
export interface ConsumerAccess {
  /**
   * Postgres through RDS Proxy, which puts the function in the VPC. @default true. Without it the
   * function runs outside the VPC and can reach public AWS endpoints (the KeyValueStore API).
   */
  readonly database?: boolean;
  /** Writes revocations into the CDN's KeyValueStore (EDGE_KVS_ARN). */
  readonly edgeStore?: boolean;
  readonly uploadsBucket?: readonly BucketCapability[];
  readonly mediaBucket?: readonly BucketCapability[];
  /** Object actions on the media bucket apply under this key prefix only. @default every key */
  readonly mediaPrefix?: string;
  readonly stateTable?: 'read' | 'readwrite';
  /** Queues it sends to, by consumers.ts queue name. */
  readonly sendsTo?: readonly QueueKey[];
  /** Starts MediaConvert jobs with the MediaConvert role. */
  readonly mediaConvert?: boolean;
  /** Reads uploaded sources only once GuardDuty tagged them clean (lib/constructs/malware-protection.ts). */
  readonly scannedSourcesOnly?: boolean;
  /** Hands on its own outbox rows right after its commit (video events): send to the webhook-events queue. */
  readonly events?: boolean;
  /** Makes playback URLs (MEDIA_BASE_URL, the signing key's secret), as the API does. */
  readonly playback?: boolean;
  /** May park messages in the dead-letter queue of these queues (by consumers.ts queue name). */
  readonly sendsToDeadLetterOf?: ReadonlyArray<(typeof deadLetterTargets)[number]>;
  /** Puts events on the stage's EventBridge bus (EVENT_BUS_NAME). */
  readonly eventBus?: boolean;
  /**
   * Extra wait for a fuller batch. Only where latency does not matter: a user waits for ingest and
   * transcode, nobody waits for deleted media to disappear.
   */
  readonly maxBatchingWindowSeconds?: number;
}

/**
 * Send to the queues of the outbox's `event` topic and of `derivatives.requested`, which `video.ready`
 * writes beside its event (the fast path of a function that writes video events).
 */
export function allowEventOutbox(fn: AppFunction, queues: Queues): void {
  for (const topic of [outboxTopics.event, outboxTopics.derivatives]) {
    const key = outboxQueues[topic];
    fn.useQueue(queues.byKey[key].queue, key);
  }
}
