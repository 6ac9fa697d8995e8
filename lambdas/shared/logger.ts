import { Logger } from '@aws-lambda-powertools/logger';
import { serviceName } from './resources.ts';

/** One structured JSON logger per process; request id and route are appended per request. */
export const logger = new Logger({
  serviceName,
  logLevel: (process.env.LOG_LEVEL as 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | undefined) ?? 'INFO',
});
