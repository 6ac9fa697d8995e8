import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Which function an invocation of the local runtime belongs to. In Lambda every function runs in its
 * own process, so a log line's `function_name` (and any key a handler appended) is its own; here the
 * API and every worker share one process and one logger, and the terminal (terminal-logs.ts) names a
 * line's function from this instead.
 */
const running = new AsyncLocalStorage<string>();

/** Runs one invocation of `functionName`: everything it logs, across awaits, is labelled with it. */
export function invoke<T>(functionName: string, run: () => T): T {
  return running.run(functionName, run);
}

/** The function whose invocation is running here, if any. */
export function runningFunction(): string | undefined {
  return running.getStore();
}
