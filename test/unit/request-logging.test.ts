/**
 * One log line per request: a refused call says why on its "request completed" line, instead of a
 * second "request refused" line beside it.
 */
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { gatewayEvent } from '../helpers/gateway-event.ts';

Object.assign(process.env, {
  UPLOADS_BUCKET: 'videocloud-uploads-test',
  MEDIA_BUCKET: 'videocloud-media-test',
  STATE_TABLE: 'videocloud-state-test',
  COGNITO_USER_POOL_ID: 'eu-west-1_test',
  COGNITO_CLIENT_ID: 'test',
});
const { routes } = await import('#api/routes.ts');
const { NotFoundError } = await import('#core/errors.ts');
const { httpHandler } = await import('#http/compose.ts');
const { lambdaContext } = await import('#local/lambda-context.ts');
const { logger } = await import('#shared/logger.ts');

const event = gatewayEvent('/v1/health');

describe('request logging', () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('logs a refused call once, with its status and why', async () => {
    const info = jest.spyOn(logger, 'info').mockImplementation(() => undefined);
    const handler = httpHandler(routes.health, null, async () => {
      throw new NotFoundError('No video abc');
    });
    const result = await handler(event, lambdaContext('api-health', 10_000));
    expect(result.statusCode).toBe(404);
    const messages = info.mock.calls.map((call) => call[0]);
    expect(messages).toEqual(['request completed']);
    expect(info.mock.calls[0]![1]).toMatchObject({ status: 404, detail: 'No video abc' });
  });

  it('logs a successful call without a detail', async () => {
    const info = jest.spyOn(logger, 'info').mockImplementation(() => undefined);
    const handler = httpHandler(routes.health, null, async () => ({
      status: 200,
      body: { status: 'ok', version: 'test', checks: { database: 'ok', storage: 'ok' } },
    }));
    expect((await handler(event, lambdaContext('api-health', 10_000))).statusCode).toBe(200);
    expect(info.mock.calls.map((call) => call[0])).toEqual(['request completed']);
    expect(info.mock.calls[0]![1]).not.toHaveProperty('detail');
  });
});
