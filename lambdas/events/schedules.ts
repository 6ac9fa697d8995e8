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
    description: 'Publishes outbox rows (revocations, events) that the fast path did not hand on',
  },
  webhookDispatcher: {
    entry: 'webhook-dispatcher',
    everyMinutes: 1,
    timeoutSeconds: 50,
    memoryMb: 256,
    description: 'Dispatches webhook delivery attempts due within 15 minutes that no fast path sent',
  },
  uploadExpiry: {
    entry: 'upload-expiry',
    everyMinutes: 5,
    timeoutSeconds: 120,
    memoryMb: 256,
    description: 'Removes uploads whose session expired uncompleted (upload.expired, video.deleted)',
  },
} satisfies Record<string, ScheduledWorker>;

export const scheduledWorkerList: ScheduledWorker[] = Object.values(scheduledWorkers);
