import { type Kysely, sql } from 'kysely';
import type { ApiKeyRecord, ApiKeyRepository } from '#core/api-keys.ts';
import type { Role, Scope } from '#core/principal.ts';
import { forgetKey } from '../api-key-cache.ts';
import type { Database } from './schema.ts';

/** API keys in Postgres (only hashes). Every value goes in as a bound parameter. */
export class PostgresApiKeyRepository implements ApiKeyRepository {
  constructor(private readonly db: Kysely<Database>) {}

  private select() {
    return this.db
      .selectFrom('api_keys')
      .innerJoin('users', 'users.id', 'api_keys.owner_id')
      .select([
        'api_keys.id',
        'api_keys.owner_id',
        'users.username',
        'users.roles as owner_roles',
        'api_keys.name',
        'api_keys.prefix',
        'api_keys.secret_hash',
        'api_keys.scopes',
        'api_keys.roles',
        'api_keys.created_at',
        'api_keys.last_used_at',
        'api_keys.revoked_at',
      ]);
  }

  async insert(
    key: Omit<ApiKeyRecord, 'createdAt' | 'lastUsedAt' | 'revokedAt' | 'ownerName' | 'ownerRoles'>,
  ) {
    await this.db
      .insertInto('api_keys')
      .values({
        id: key.id,
        owner_id: key.ownerId,
        name: key.name,
        prefix: key.prefix,
        secret_hash: key.secretHash,
        scopes: key.scopes,
        roles: key.roles,
        last_used_at: null,
        revoked_at: null,
      })
      .execute();
    return (await this.findById(key.id))!;
  }

  async findByPrefix(prefix: string) {
    const row = await this.select().where('api_keys.prefix', '=', prefix).executeTakeFirst();
    return row && toRecord(row);
  }

  async findById(id: string) {
    const row = await this.select().where('api_keys.id', '=', id).executeTakeFirst();
    return row && toRecord(row);
  }

  async listActive(ownerId: string) {
    const rows = await this.select()
      .where('api_keys.owner_id', '=', ownerId)
      .where('api_keys.revoked_at', 'is', null)
      .orderBy('api_keys.created_at', 'desc')
      .orderBy('api_keys.id', 'desc')
      .execute();
    return rows.map(toRecord);
  }

  async countActive(ownerId: string) {
    const row = await this.db
      .selectFrom('api_keys')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('owner_id', '=', ownerId)
      .where('revoked_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async revoke(id: string) {
    const result = await this.db
      .updateTable('api_keys')
      .set({ revoked_at: sql<Date>`now()` })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    forgetKey(id); // this container stops accepting it at once; others within API_KEY_CACHE_SECONDS
    return Number(result.numUpdatedRows) > 0;
  }

  /** At most one write a minute per key, so a busy key does not turn every read into a write. */
  async touch(id: string) {
    await this.db
      .updateTable('api_keys')
      .set({ last_used_at: sql<Date>`now()` })
      .where('id', '=', id)
      .where((eb) =>
        eb.or([
          eb('last_used_at', 'is', null),
          eb('last_used_at', '<', sql<Date>`now() - interval '1 minute'`),
        ]),
      )
      .execute();
  }
}

function toRecord(row: {
  id: string;
  owner_id: string;
  username: string;
  owner_roles: string[] | null;
  name: string;
  prefix: string;
  secret_hash: string;
  scopes: string[];
  roles: string[];
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}): ApiKeyRecord {
  return {
    id: row.id,
    ownerId: row.owner_id,
    ownerName: row.username,
    ownerRoles: row.owner_roles as Role[] | null,
    name: row.name,
    prefix: row.prefix,
    secretHash: row.secret_hash,
    scopes: row.scopes as Scope[],
    roles: row.roles as Role[],
    createdAt: new Date(row.created_at),
    lastUsedAt: row.last_used_at ? new Date(row.last_used_at) : null,
    revokedAt: row.revoked_at ? new Date(row.revoked_at) : null,
  };
}
