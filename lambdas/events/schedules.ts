/**
 * Scheduled workers: which handler (lambdas/events/<entry>.ts) runs how often. The CDK app makes an
 * EventBridge schedule per entry and the local runtime a timer, from this one table.
 */
export interface ScheduledWorker {
  entry: string;
  everyMinutes: number;
  timeoutSeconds: number;
  memoryMb: number;
  description: string;
}

export const scheduledWorkers = {
  cleanupSweeper: {
    entry: 'cleanup-sweeper',
    everyMinutes: 60,
    timeoutSeconds: 60,
    memoryMb: 512,
    description: 'Re-queues media cleanup for deleted videos whose objects are still stored',
  },
  outboxRelay: {
    entry: 'outbox-relay',
    everyMinutes: 1,
    timeoutSeconds: 50,
    memoryMb: 256,
    description: 'Publishes outbox rows (playback revocations) that the request path did not hand on',
  },
} satisfies Record<string, ScheduledWorker>;

export const scheduledWorkerList: ScheduledWorker[] = Object.values(scheduledWorkers);
