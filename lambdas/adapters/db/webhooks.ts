import { randomUUID } from 'node:crypto';
import { type Kysely, type Selectable, sql } from 'kysely';
import type { EventType, OutboxEvent, PublicEvent } from '#core/events.ts';
import type { Keyset } from '#core/pagination.ts';
import {
  type AttemptResult,
  type DeliveryRecord,
  type DueDelivery,
  type EndpointPatch,
  MAX_DISPATCH_DELAY_SECONDS,
  nextAttemptAfter,
  RESPONSE_EXCERPT_CHARS,
  signingSecrets,
  type WebhookEndpointRecord,
  type WebhookRepository,
} from '#core/webhooks.ts';
import type { Database, WebhookDeliveriesTable, WebhookEndpointsTable } from './schema.ts';

/** A dispatched attempt is presumed lost when no result came back this long after it was due. */
const LEASE_SECONDS = 120;

/** Webhook endpoints and deliveries in Postgres. Every value goes in as a bound parameter. */
export class PostgresWebhooks implements WebhookRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(endpoint: Omit<WebhookEndpointRecord, 'createdAt' | 'updatedAt'>) {
    const row = await this.db
      .insertInto('webhook_endpoints')
      .values({
        id: endpoint.id,
        owner_id: endpoint.ownerId,
        all_videos: endpoint.allVideos,
        url: endpoint.url,
        description: endpoint.description,
        events: endpoint.events,
        enabled: endpoint.enabled,
        disabled_reason: endpoint.disabledReason,
        secret: endpoint.secret,
        previous_secret: null,
        previous_secret_until: null,
        failing_since: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toEndpoint(row);
  }

  async find(id: string) {
    const row = await this.db
      .selectFrom('webhook_endpoints')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toEndpoint(row);
  }

  async list(ownerId: string, after: Keyset | undefined, take: number) {
    let select = this.db.selectFrom('webhook_endpoints').selectAll().where('owner_id', '=', ownerId);
    if (after) {
      select = select.where((eb) =>
        eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(after.createdAt, after.id)),
      );
    }
    const rows = await select.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(take).execute();
    return rows.map(toEndpoint);
  }

  async count(ownerId: string) {
    const { n } = await this.db
      .selectFrom('webhook_endpoints')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('owner_id', '=', ownerId)
      .executeTakeFirstOrThrow();
    return Number(n);
  }

  async update(id: string, patch: EndpointPatch) {
    const row = await this.db
      .updateTable('webhook_endpoints')
      .set({
        ...(patch.url !== undefined ? { url: patch.url } : {}),
        ...(patch.description !== undefined ? { description: patch.description } : {}),
        ...(patch.events !== undefined ? { events: patch.events } : {}),
        // Enabling clears an automatic disable and its failure streak; disabling by hand says so.
        ...(patch.enabled === true ? { enabled: true, disabled_reason: null, failing_since: null } : {}),
        ...(patch.enabled === false ? { enabled: false, disabled_reason: 'disabled by its owner' } : {}),
        updated_at: sql`now()`,
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    return toEndpoint(row);
  }

  async rotate(id: string, secret: string, previousUntil: Date) {
    await this.db
      .updateTable('webhook_endpoints')
      .set((eb) => ({
        previous_secret: eb.ref('secret'),
        previous_secret_until: previousUntil,
        secret,
        updated_at: sql`now()`,
      }))
      .where('id', '=', id)
      .execute();
  }

  async remove(id: string) {
    const result = await this.db.deleteFrom('webhook_endpoints').where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async insertDelivery(endpointId: string, event: PublicEvent) {
    const id = randomUUID();
    await this.db
      .insertInto('webhook_deliveries')
      .values({
        id,
        endpoint_id: endpointId,
        event_id: event.id,
        event_type: event.type,
        payload: JSON.stringify(event),
        status: 'pending',
        last_status_code: null,
        last_error: null,
        last_latency_ms: null,
        last_response: null,
        last_attempt_at: null,
        next_attempt_at: sql<Date>`now()`,
        dispatched_until: null,
      })
      .execute();
    return id;
  }

  async listDeliveries(endpointId: string, after: Keyset | undefined, take: number) {
    let select = this.db.selectFrom('webhook_deliveries').selectAll().where('endpoint_id', '=', endpointId);
    if (after) {
      select = select.where((eb) =>
        eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(after.createdAt, after.id)),
      );
    }
    const rows = await select.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(take).execute();
    return rows.map(toDelivery);
  }

  async findDelivery(endpointId: string, deliveryId: string) {
    const row = await this.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('id', '=', deliveryId)
      .where('endpoint_id', '=', endpointId)
      .executeTakeFirst();
    return row && toDelivery(row);
  }

  async retryNow(deliveryId: string) {
    const result = await this.db
      .updateTable('webhook_deliveries')
      .set({
        status: 'pending',
        next_attempt_at: sql<Date>`now()`,
        dispatched_until: null,
        updated_at: sql`now()`,
      })
      .where('id', '=', deliveryId)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  // -------------------------------------------------------------------------------------------------
  // The event side: fan-out, dispatch, results.

  /** The event as the outbox holds it (the fan-out trusts the database, not the queue message). */
  async outboxEvent(eventId: string): Promise<OutboxEvent | undefined> {
    const row = await this.db
      .selectFrom('outbox')
      .select('payload')
      .where('topic', '=', 'event')
      .where(sql<string>`payload ->> 'id'`, '=', eventId)
      .executeTakeFirst();
    return row?.payload as OutboxEvent | undefined;
  }

  /**
   * One pending delivery per endpoint that takes this event: the owner's own endpoints and those of
   * admins (who must still be admins), enabled, whose filter names the type. Repeating it for the same
   * event adds nothing (unique endpoint + event); returns the ids of the deliveries it made now.
   */
  async fanOut(event: { id: string; type: EventType; ownerId: string }, body: string): Promise<string[]> {
    const endpoints = await this.db
      .selectFrom('webhook_endpoints as e')
      .innerJoin('users as u', 'u.id', 'e.owner_id')
      .select('e.id')
      .where('e.enabled', '=', true)
      .where((eb) =>
        eb.or([
          eb('e.owner_id', '=', event.ownerId),
          eb.and([eb('e.all_videos', '=', true), sql<boolean>`'admin' = any(coalesce(u.roles, '{}'))`]),
        ]),
      )
      .where((eb) => eb.or([eb('e.events', 'is', null), sql<boolean>`${event.type} = any(e.events)`]))
      .execute();
    if (endpoints.length === 0) return [];
    const rows = await this.db
      .insertInto('webhook_deliveries')
      .values(
        endpoints.map((endpoint) => ({
          id: randomUUID(),
          endpoint_id: endpoint.id,
          event_id: event.id,
          event_type: event.type,
          payload: body,
          status: 'pending' as const,
          last_status_code: null,
          last_error: null,
          last_latency_ms: null,
          last_response: null,
          last_attempt_at: null,
          next_attempt_at: sql<Date>`now()`,
          dispatched_until: null,
        })),
      )
      .onConflict((oc) => oc.columns(['endpoint_id', 'event_id']).doNothing())
      .returning('id')
      .execute();
    return rows.map((row) => row.id);
  }

  /**
   * Claims deliveries whose next attempt is due within SQS's delay range and that no attempt is out for
   * (or whose attempt's lease ran out): the given ones, or any. The lease lasts until the attempt is due
   * plus LEASE_SECONDS; the result clears it. Endpoints that are disabled are left alone.
   */
  async claimDue(options: { ids?: string[]; limit: number }): Promise<DueDelivery[]> {
    if (options.ids && options.ids.length === 0) return [];
    return this.db.transaction().execute(async (tx) => {
      let select = tx
        .selectFrom('webhook_deliveries as d')
        .innerJoin('webhook_endpoints as e', 'e.id', 'd.endpoint_id')
        .select([
          'd.id',
          'd.endpoint_id',
          'd.event_id',
          'd.payload',
          'd.attempts',
          'd.next_attempt_at',
          'e.url',
          'e.secret',
          'e.previous_secret',
          'e.previous_secret_until',
        ])
        .where('d.status', '=', 'pending')
        .where('e.enabled', '=', true)
        .where(
          'd.next_attempt_at',
          '<=',
          sql<Date>`now() + make_interval(secs => ${MAX_DISPATCH_DELAY_SECONDS})`,
        )
        .where((eb) =>
          eb.or([eb('d.dispatched_until', 'is', null), eb('d.dispatched_until', '<', sql<Date>`now()`)]),
        );
      if (options.ids) select = select.where('d.id', 'in', options.ids);
      const rows = await select
        .orderBy('d.next_attempt_at')
        .limit(options.limit)
        .forUpdate('d')
        .skipLocked()
        .execute();
      if (rows.length === 0) return [];
      await tx
        .updateTable('webhook_deliveries')
        .set({
          dispatched_until: sql<Date>`greatest(next_attempt_at, now()) + make_interval(secs => ${LEASE_SECONDS})`,
        })
        .where(
          'id',
          'in',
          rows.map((row) => row.id),
        )
        .execute();
      const now = new Date();
      return rows.map((row) => ({
        id: row.id,
        endpointId: row.endpoint_id,
        eventId: row.event_id,
        payload: row.payload,
        attempts: row.attempts,
        nextAttemptAt: row.next_attempt_at ?? now,
        url: row.url,
        secrets: signingSecrets(
          {
            secret: row.secret,
            previousSecret: row.previous_secret,
            previousSecretUntil: row.previous_secret_until,
          },
          now,
        ),
      }));
    });
  }

  /** Gives up a claim whose message never left (the queue refused it): the next sweep tries again. */
  async releaseClaims(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db
      .updateTable('webhook_deliveries')
      .set({ dispatched_until: null })
      .where('id', 'in', ids)
      .execute();
  }

  /**
   * Records what an attempt got and decides what comes next: succeeded; another attempt per the
   * schedule; or failed after the last. Results of an attempt already recorded (a redelivered result, an
   * attempt sent twice) change nothing. The endpoint's failure streak moves with it, and an endpoint
   * whose every attempt failed for `disableAfterDays` is disabled. Returns whether the delivery's next
   * attempt should be dispatched now (due within SQS's delay range), and where an attempt recorded here
   * left the delivery (null when nothing was recorded).
   */
  async recordResult(
    result: AttemptResult,
    settings: { schedule: readonly number[]; disableAfterDays: number },
  ): Promise<{ dispatchNow: boolean; settled: 'succeeded' | 'retrying' | 'failed' | null }> {
    return this.db.transaction().execute(async (tx) => {
      const delivery = await tx
        .selectFrom('webhook_deliveries')
        .select(['id', 'endpoint_id', 'attempts', 'status'])
        .where('id', '=', result.deliveryId)
        .forUpdate()
        .executeTakeFirst();
      if (!delivery) return { dispatchNow: false, settled: null };
      if (result.kind === 'stale') {
        // Not attempted: its signature was too old when it reached the sender. Sign again, now.
        if (delivery.status === 'succeeded') return { dispatchNow: false, settled: null };
        await tx
          .updateTable('webhook_deliveries')
          .set({
            status: 'pending',
            next_attempt_at: sql<Date>`now()`,
            dispatched_until: null,
            updated_at: sql`now()`,
          })
          .where('id', '=', delivery.id)
          .execute();
        return { dispatchNow: true, settled: null };
      }
      if (result.attempt <= delivery.attempts) return { dispatchNow: false, settled: null };
      const at = new Date(result.at);
      const next = result.succeeded ? null : nextAttemptAfter(result.attempt, at, settings.schedule);
      await tx
        .updateTable('webhook_deliveries')
        .set({
          status: result.succeeded ? 'succeeded' : next ? 'pending' : 'failed',
          attempts: result.attempt,
          last_status_code: result.statusCode,
          last_error: result.error?.slice(0, 500) ?? null,
          last_latency_ms: result.latencyMs,
          last_response: result.responseExcerpt?.slice(0, RESPONSE_EXCERPT_CHARS) ?? null,
          last_attempt_at: at,
          next_attempt_at: next,
          dispatched_until: null,
          updated_at: sql`now()`,
        })
        .where('id', '=', delivery.id)
        .execute();
      if (result.succeeded) {
        await tx
          .updateTable('webhook_endpoints')
          .set({ failing_since: null })
          .where('id', '=', delivery.endpoint_id)
          .where('failing_since', 'is not', null)
          .execute();
      } else {
        const endpoint = await tx
          .updateTable('webhook_endpoints')
          .set((eb) => ({ failing_since: eb.fn.coalesce('failing_since', sql<Date>`${at}::timestamptz`) }))
          .where('id', '=', delivery.endpoint_id)
          .returning(['failing_since', 'enabled'])
          .executeTakeFirst();
        const days = settings.disableAfterDays;
        if (
          endpoint?.enabled &&
          days > 0 &&
          endpoint.failing_since &&
          at.getTime() - new Date(endpoint.failing_since).getTime() >= days * 86_400_000
        ) {
          await tx
            .updateTable('webhook_endpoints')
            .set({
              enabled: false,
              disabled_reason: `disabled automatically: every delivery failed for ${days} days`,
              updated_at: sql`now()`,
            })
            .where('id', '=', delivery.endpoint_id)
            .execute();
        }
      }
      return {
        dispatchNow: next !== null && next.getTime() - Date.now() <= MAX_DISPATCH_DELAY_SECONDS * 1000,
        settled: result.succeeded ? 'succeeded' : next ? 'retrying' : 'failed',
      };
    });
  }
}

function toEndpoint(row: Selectable<WebhookEndpointsTable>): WebhookEndpointRecord {
  return {
    id: row.id,
    ownerId: row.owner_id,
    allVideos: row.all_videos,
    url: row.url,
    description: row.description,
    events: row.events as EventType[] | null,
    enabled: row.enabled,
    disabledReason: row.disabled_reason,
    secret: row.secret,
    previousSecret: row.previous_secret,
    previousSecretUntil: row.previous_secret_until ? new Date(row.previous_secret_until) : null,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

function toDelivery(row: Selectable<WebhookDeliveriesTable>): DeliveryRecord {
  const date = (value: Date | null) => (value ? new Date(value) : null);
  return {
    id: row.id,
    endpointId: row.endpoint_id,
    eventId: row.event_id,
    eventType: row.event_type,
    status: row.status,
    attempts: row.attempts,
    lastStatusCode: row.last_status_code,
    lastError: row.last_error,
    lastLatencyMs: row.last_latency_ms,
    lastResponse: row.last_response,
    lastAttemptAt: date(row.last_attempt_at),
    nextAttemptAt: date(row.next_attempt_at),
    createdAt: new Date(row.created_at),
  };
}
