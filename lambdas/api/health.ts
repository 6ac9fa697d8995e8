import { pingDatabase } from '#adapters/db/connection.ts';
import { pingStorage } from '#adapters/storage.ts';
import { checkHealth } from '#core/health.ts';
import { httpHandler } from '#http/compose.ts';
import { config } from '#shared/config.ts';
import { logger } from '#shared/logger.ts';
import * as routes from './routes.ts';

export const handler = httpHandler(routes.health, null, async () => {
  const report = await checkHealth({ database: pingDatabase, storage: pingStorage });
  if (!report.healthy) logger.warn('health check failing', { failures: report.failures });
  return {
    status: report.healthy ? 200 : 503,
    body: { status: report.healthy ? 'ok' : 'degraded', version: config().version, checks: report.checks },
  };
});
