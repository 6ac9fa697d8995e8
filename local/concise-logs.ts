/**
 * A structured log line (Powertools' JSON, what CloudWatch gets in the cloud) as one short line for the
 * person watching `npm start`: `12:31:08 INFO  transcoded videoId=… outcome=ready (360p, 240p)`.
 * local/terminal-logs.ts installs it.
 */

/** Fields every line carries that say nothing to a person reading along. */
const BOILERPLATE = new Set([
  'level',
  'message',
  'timestamp',
  'service',
  'sampling_rate',
  'xray_trace_id',
  'cold_start',
  'function_arn',
  'function_memory_size',
  'function_request_id',
  'function_name',
  // Kept in CloudWatch to correlate a request's lines; here the lines of one request follow each other.
  'requestId',
]);

/**
 * Keys the API edge appends for the length of a request (lambdas/http/request-id.ts). The local runtime
 * shares one logger between the API and its workers, so a worker's line may carry a request's.
 */
const REQUEST_SCOPED = new Set(['route']);

/**
 * `runningFunction` is the local invocation the line was logged in (local/invocations.ts): it names the
 * line's source, and a worker's line drops what a request running beside it appended.
 */
export function conciseLine(text: string, runningFunction?: string): string | undefined {
  if (!text.startsWith('{')) return undefined;
  let item: unknown;
  try {
    item = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof item !== 'object' || item === null) return undefined;
  const { level, message, timestamp, function_name: logged } = item as Record<string, unknown>;
  const source = runningFunction ?? logged;
  const requestLine = typeof source === 'string' && source.startsWith('api-');
  if (typeof level !== 'string' || typeof message !== 'string') return undefined;
  const time = typeof timestamp === 'string' ? timestamp.slice(11, 19) : '';
  const fields = Object.entries(item)
    .filter(([key, value]) => !BOILERPLATE.has(key) && value !== undefined && value !== null)
    .filter(([key]) => requestLine || !REQUEST_SCOPED.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  return [time, level.padEnd(5), typeof source === 'string' ? source : undefined, message, ...fields]
    .filter((part) => part !== undefined && part !== '')
    .join(' ');
}
