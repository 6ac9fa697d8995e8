import * as z from 'zod';
import { commaList, parseEnv } from '#shared/env.ts';

/** Configuration of `npm start` itself (the Lambda-side config is derived from it in runtime.ts). */
const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  /** Loopback by default: the local runtime has dev credentials and a token endpoint anyone can call. */
  HOST: z.string().min(1).default('127.0.0.1'),
  VIDEOCLOUD_DATA_DIR: z.string().min(1).default('.videocloud'),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  /** Extra browser origins allowed to call the API and upload (the runtime's own origin always is). */
  WEB_ORIGINS: commaList,
  /**
   * Extra Host names the gateway answers to, `name` or `name:port` (say, a LAN name or a proxy's); it
   * always answers `localhost`, `127.0.0.1` and `[::1]` with its port, and nothing else (421), so a
   * DNS-rebound page cannot talk to it.
   */
  ALLOWED_HOSTS: z
    .pipe(
      commaList,
      z.array(
        z
          .string()
          .toLowerCase()
          .regex(
            /^(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9.-]*[a-z0-9])?)(:\d{1,5})?$/,
            'a host name, optionally :port',
          ),
      ),
    )
    .optional(),
  /** INFO: a line per pipeline step (ingested, transcoded, ...); DEBUG adds one per HTTP request. */
  LOG_LEVEL: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
  /** Origins whose pages may embed the media (CORS at /cdn/); `*` (the default) for any. */
  EMBED_ORIGINS: z.pipe(
    commaList,
    z.transform((origins: string[]) => (origins.length > 0 ? origins : ['*'])),
  ),
  /**
   * Overrides every queue's visibility timeout and caps every visibility change at it (tests use a short
   * one to see retries quickly). Unset, changes may extend a message up to SQS's 12 hours.
   */
  QUEUE_VISIBILITY_SECONDS: z.coerce.number().positive().optional(),
});

export type LocalConfig = z.infer<typeof schema>;

export function loadLocalConfig(env: Record<string, string | undefined> = process.env): LocalConfig {
  return parseEnv(schema, env, 'Local runtime');
}
