import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import * as z from 'zod';
import { migrateToLatest } from '#adapters/db/migrate.ts';
import { parseEnv } from '#shared/env.ts';
import { logger } from '#shared/logger.ts';

/**
 * Deploy-time migration: run by a CDK trigger after the database exists and again on every deploy that
 * changes this function. It connects straight to the instance with the master secret (the app itself
 * only ever uses IAM tokens through RDS Proxy), makes sure the IAM-auth application role exists, applies
 * pending migrations and grants the role what it needs. Every step is idempotent.
 */
const env = parseEnv(
  z.object({
    DB_HOST: z.string().min(1),
    DB_PORT: z.coerce.number().int().positive().default(5432),
    DB_NAME: z.string().min(1),
    DB_SECRET_ARN: z.string().min(1),
    APP_DB_USER: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/),
  }),
  process.env,
  'Migration',
);

const secrets = new SecretsManagerClient({});

export async function handler(): Promise<{ applied: string[] }> {
  const secret = await secrets.send(new GetSecretValueCommand({ SecretId: env.DB_SECRET_ARN }));
  const { username, password } = z
    .object({ username: z.string(), password: z.string() })
    .parse(JSON.parse(secret.SecretString ?? '{}'));
  const db = new Kysely<unknown>({
    dialect: new PostgresDialect({
      pool: new pg.Pool({
        host: env.DB_HOST,
        port: env.DB_PORT,
        database: env.DB_NAME,
        user: username,
        password,
        ssl: { rejectUnauthorized: false }, // inside the VPC; the RDS CA bundle is not shipped in the bundle
        max: 1,
      }),
    }),
  });
  try {
    const role = sql.id(env.APP_DB_USER);
    await sql`do $$ begin
      if not exists (select from pg_roles where rolname = ${sql.lit(env.APP_DB_USER)}) then
        create role ${role} login;
      end if;
    end $$`.execute(db);
    await sql`grant rds_iam to ${role}`.execute(db);
    const result = await migrateToLatest(db);
    await sql`grant usage on schema public to ${role}`.execute(db);
    await sql`grant select, insert, update, delete on all tables in schema public to ${role}`.execute(db);
    await sql`grant usage, select on all sequences in schema public to ${role}`.execute(db);
    const applied = (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
    logger.info('migrations applied', { applied });
    return { applied };
  } finally {
    await db.destroy();
  }
}
