/**
 * Imported first by bin/local.ts, before any logger exists: POWERTOOLS_DEV makes Powertools write through
 * the global console, which this wraps so each log item prints as one concise line (concise-logs.ts).
 * Anything that is not a log item passes through untouched.
 */
import { conciseLine } from './concise-logs.ts';
import { runningFunction } from './invocations.ts';

process.env.POWERTOOLS_DEV ??= 'true';
for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
  const print = console[method].bind(console);
  console[method] = (...args: unknown[]) => {
    const line =
      args.length === 1 && typeof args[0] === 'string' ? conciseLine(args[0], runningFunction()) : undefined;
    if (line === undefined) print(...args);
    else print(line);
  };
}
