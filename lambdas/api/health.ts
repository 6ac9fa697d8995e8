import { pingDatabase } from '#adapters/db/index.ts';
import { pingStorage } from '#adapters/storage.ts';
import { checkHealth } from '#core/health.ts';
import { config } from '#shared/config.ts';
import { httpHandler } from '#shared/http.ts';
import { logger } from '#shared/logger.ts';
import { routes } from './routes.ts';

export const handler = httpHandler(routes.health, async () => {
  const report = await checkHealth({ database: pingDatabase, storage: pingStorage });
  if (!report.healthy) logger.warn('health check failing', { failures: report.failures });
  return {
    status: report.healthy ? 200 : 503,
    body: { status: report.healthy ? 'ok' : 'degraded', version: config().version, checks: report.checks },
  };
});
