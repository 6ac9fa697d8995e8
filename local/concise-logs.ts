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

export function conciseLine(text: string): string | undefined {
  if (!text.startsWith('{')) return undefined;
  let item: unknown;
  try {
    item = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof item !== 'object' || item === null) return undefined;
  const { level, message, timestamp, function_name: source } = item as Record<string, unknown>;
  if (typeof level !== 'string' || typeof message !== 'string') return undefined;
  const time = typeof timestamp === 'string' ? timestamp.slice(11, 19) : '';
  const fields = Object.entries(item)
    .filter(([key, value]) => !BOILERPLATE.has(key) && value !== undefined && value !== null)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  return [time, level.padEnd(5), typeof source === 'string' ? source : undefined, message, ...fields]
    .filter((part) => part !== undefined && part !== '')
    .join(' ');
}
