import { holdMessage, type QueueName } from './queue.ts';

/**
 * A heartbeat that keeps one received SQS message invisible while its worker works, a short lease at a
 * time: the message is held for `leaseSeconds` from the start, and the hold is renewed every third of
 * that. A worker that dies (killed, out of memory, its Lambda timed out) stops renewing, and the message
 * is back on the queue within one lease instead of after the queue's whole visibility timeout.
 *
 * When renewals keep failing until the lease may have run out, another worker may already hold the
 * message: `signal` aborts, so this worker stops instead of racing the next one over the same outputs.
 */
export interface Heartbeat {
  /** Aborts when the lease is lost; its reason says why. */
  readonly signal: AbortSignal;
  /** Stops renewing (the message is then deleted or released by the caller's outcome). */
  stop(): Promise<void>;
}

export interface HeartbeatOptions {
  queue: QueueName;
  receiptHandle: string;
  leaseSeconds: number;
  /** Called with renewal errors (they are retried until the lease would run out). */
  onError?: (error: unknown) => void;
  /** For tests: how a renewal is made. */
  hold?: (queue: QueueName, receiptHandle: string, seconds: number) => Promise<void>;
}

/** Renewals happen this many times per lease, so two may fail before the lease runs out. */
export const RENEWALS_PER_LEASE = 3;

export async function startHeartbeat(options: HeartbeatOptions): Promise<Heartbeat> {
  const hold = options.hold ?? holdMessage;
  const leaseMs = options.leaseSeconds * 1000;
  const controller = new AbortController();
  // The first hold replaces the queue's long default with the short lease. Should it fail, the message
  // keeps the queue's default (nothing is lost but a quick retry), and renewals go on trying.
  let heldUntil = Number.POSITIVE_INFINITY;
  try {
    const asked = Date.now();
    await hold(options.queue, options.receiptHandle, options.leaseSeconds);
    heldUntil = asked + leaseMs;
  } catch (error) {
    options.onError?.(error);
  }
  let renewing: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    renewing = (async () => {
      const asked = Date.now();
      try {
        await hold(options.queue, options.receiptHandle, options.leaseSeconds);
        heldUntil = asked + leaseMs;
      } catch (error) {
        options.onError?.(error);
        // Once the next renewal could only come after the lease ends, the message may be someone else's.
        if (Date.now() + leaseMs / RENEWALS_PER_LEASE >= heldUntil) {
          controller.abort(new Error('lost the queue message: its lease could not be renewed'));
          clearInterval(timer);
        }
      }
    })();
  }, leaseMs / RENEWALS_PER_LEASE);
  timer.unref();
  return {
    signal: controller.signal,
    async stop() {
      clearInterval(timer);
      await renewing;
    },
  };
}
