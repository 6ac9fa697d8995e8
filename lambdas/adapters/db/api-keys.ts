import type { Selectable } from 'kysely';
import type { ApiKeyRecord, ApiKeyRepository } from '#core/api-keys.ts';
import type { Role, Scope } from '#core/principal.ts';
import { forgetKey } from '../api-key-cache.ts';
import type { ApiKeysTable, UserRow } from './schema.ts';
import { type Db, insertValues, type Sql, sql } from './sql.ts';

/** A key with its owner's name and current roles. */
type KeyRow = Selectable<ApiKeysTable> & { username: UserRow['username']; owner_roles: UserRow['roles'] };

/** API keys in Postgres (only hashes). Every value goes in as a bound parameter. */
export class PostgresApiKeyRepository implements ApiKeyRepository {
  constructor(private readonly db: Db) {}

  /** The keys (with their owners) that `condition` picks, in `order`. */
  private select(condition: Sql, order: Sql = sql``) {
    return sql`select api_keys.id, api_keys.owner_id, users.username, users.roles as owner_roles,
                 api_keys.name, api_keys.prefix, api_keys.secret_hash, api_keys.scopes, api_keys.roles,
                 api_keys.created_at, api_keys.last_used_at, api_keys.revoked_at
               from api_keys inner join users on users.id = api_keys.owner_id
               where ${condition} ${order}`;
  }

  async insert(
    key: Omit<ApiKeyRecord, 'createdAt' | 'lastUsedAt' | 'revokedAt' | 'ownerName' | 'ownerRoles'>,
  ) {
    await this.db.run(
      sql`insert into api_keys ${insertValues({
        id: key.id,
        owner_id: key.ownerId,
        name: key.name,
        prefix: key.prefix,
        secret_hash: key.secretHash,
        scopes: key.scopes,
        roles: key.roles,
        last_used_at: null,
        revoked_at: null,
      })}`,
    );
    return (await this.findById(key.id))!;
  }

  async findByPrefix(prefix: string) {
    const row = await this.db.first<KeyRow>(this.select(sql`api_keys.prefix = ${prefix}`));
    return row && toRecord(row);
  }

  async findById(id: string) {
    const row = await this.db.first<KeyRow>(this.select(sql`api_keys.id = ${id}`));
    return row && toRecord(row);
  }

  async listActive(ownerId: string) {
    const rows = await this.db.all<KeyRow>(
      this.select(
        sql`api_keys.owner_id = ${ownerId} and api_keys.revoked_at is null`,
        sql`order by api_keys.created_at desc, api_keys.id desc`,
      ),
    );
    return rows.map(toRecord);
  }

  async countActive(ownerId: string) {
    const row = await this.db.first<{ n: string | number }>(
      sql`select count(*) as n from api_keys where owner_id = ${ownerId} and revoked_at is null`,
    );
    return Number(row?.n ?? 0);
  }

  async revoke(id: string) {
    const revoked = await this.db.run(
      sql`update api_keys set revoked_at = now() where id = ${id} and revoked_at is null`,
    );
    forgetKey(id); // this container stops accepting it at once; others within API_KEY_CACHE_SECONDS
    return revoked > 0;
  }

  /** At most one write a minute per key, so a busy key does not turn every read into a write. */
  async touch(id: string) {
    await this.db.run(
      sql`update api_keys set last_used_at = now()
          where id = ${id} and (last_used_at is null or last_used_at < now() - interval '1 minute')`,
    );
  }
}

function toRecord(row: KeyRow): ApiKeyRecord {
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
