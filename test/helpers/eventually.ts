/**
 * Polls `check` until it stops throwing, or fails with its last error once `timeoutMs` has passed. The one
 * way tests wait for something asynchronous: never a fixed sleep, always a condition and a deadline.
 */
export async function eventually<T>(
  check: () => Promise<T> | T,
  options: { timeoutMs: number; intervalMs?: number; what: string },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let interval = options.intervalMs ?? 50;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() >= deadline) {
        throw new Error(
          `gave up after ${options.timeoutMs} ms waiting for ${options.what}: ${(error as Error).message}`,
          {
            cause: error,
          },
        );
      }
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
    interval = Math.min(interval * 2, 500);
  }
}

/** Polls `condition` until it is true; fails once `timeoutMs` has passed, naming `what` it waited for. */
export async function until(
  condition: () => boolean | Promise<boolean>,
  options: { timeoutMs: number; intervalMs?: number; what: string },
): Promise<void> {
  await eventually(async () => {
    if (!(await condition())) throw new Error('not yet');
  }, options);
}
