import { describe, expect, it } from '@jest/globals';
import { databaseSource } from '#adapters/db/connection.ts';
import { loadConfig } from '#shared/config.ts';

/** The variables every function has; the database ones are the subject here. */
const base = {
  UPLOADS_BUCKET: 'uploads',
  MEDIA_BUCKET: 'media',
  STATE_TABLE: 'state',
  COGNITO_USER_POOL_ID: 'eu-west-1_test',
  COGNITO_CLIENT_ID: 'client',
};

describe('the database source in the configuration', () => {
  it('is needed only where the database is opened: presigning and other work parse without one', () => {
    const config = loadConfig(base);
    expect(config.database).toBeUndefined();
    expect(() => databaseSource(config)).toThrow(/set one of DATABASE_URL, DB_PROXY_HOST or PGLITE_DATA_DIR/);
  });

  it('is whichever one is set', () => {
    const url = 'postgres://postgres@127.0.0.1:5432/test';
    expect(databaseSource(loadConfig({ ...base, DATABASE_URL: url }))).toEqual({ kind: 'url', url });
    expect(databaseSource(loadConfig({ ...base, PGLITE_DATA_DIR: '/tmp/db' }))).toEqual({
      kind: 'pglite',
      dataDir: '/tmp/db',
    });
    expect(databaseSource(loadConfig({ ...base, DB_PROXY_HOST: 'proxy.internal' }))).toMatchObject({
      kind: 'rds-proxy',
      host: 'proxy.internal',
    });
  });

  it('refuses two, which would leave the choice to precedence nobody reads', () => {
    expect(() =>
      loadConfig({ ...base, DATABASE_URL: 'postgres://localhost/x', PGLITE_DATA_DIR: '/tmp/db' }),
    ).toThrow(/set only one of DATABASE_URL, DB_PROXY_HOST or PGLITE_DATA_DIR \(found 2\)/);
  });
});
