import { randomUUID } from 'node:crypto';
import type { Selectable } from 'kysely';
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
import type { WebhookDeliveriesTable, WebhookEndpointsTable } from './schema.ts';
import { type Db, insertValues, join, olderThan, setValues, sql, where } from './sql.ts';

type EndpointRow = Selectable<WebhookEndpointsTable>;
type DeliveryRow = Selectable<WebhookDeliveriesTable>;

/** A delivery made due again (a retry asked for, or an attempt signed too long ago): pending, due now, unclaimed. */
const dueAgain = {
  status: 'pending',
  next_attempt_at: sql`now()`,
  dispatched_until: null,
  updated_at: sql`now()`,
};

/** A dispatched attempt is presumed lost when no result came back this long after it was due. */
const LEASE_SECONDS = 120;

/** Webhook endpoints and deliveries in Postgres. Every value goes in as a bound parameter. */
export class PostgresWebhooks implements WebhookRepository {
  constructor(private readonly db: Db) {}

  async insert(endpoint: Omit<WebhookEndpointRecord, 'createdAt' | 'updatedAt'>) {
    const row = await this.db.first<EndpointRow>(
      sql`insert into webhook_endpoints ${insertValues({
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
      })}
      returning *`,
    );
    if (!row) throw new Error(`webhook endpoint ${endpoint.id} was not inserted`);
    return toEndpoint(row);
  }

  async find(id: string) {
    const row = await this.db.first<EndpointRow>(sql`select * from webhook_endpoints where id = ${id}`);
    return row && toEndpoint(row);
  }

  async list(ownerId: string, after: Keyset | undefined, take: number) {
    const rows = await this.db.all<EndpointRow>(
      sql`select * from webhook_endpoints
          ${where([sql`owner_id = ${ownerId}`, olderThan(after)])}
          order by created_at desc, id desc
          limit ${take}`,
    );
    return rows.map(toEndpoint);
  }

  async count(ownerId: string) {
    const row = await this.db.first<{ n: string | number }>(
      sql`select count(*) as n from webhook_endpoints where owner_id = ${ownerId}`,
    );
    return Number(row?.n ?? 0);
  }

  async update(id: string, patch: EndpointPatch) {
    const row = await this.db.first<EndpointRow>(
      sql`update webhook_endpoints
          set ${setValues({
            ...(patch.url !== undefined ? { url: patch.url } : {}),
            ...(patch.description !== undefined ? { description: patch.description } : {}),
            ...(patch.events !== undefined ? { events: patch.events } : {}),
            // Enabling clears an automatic disable and its failure streak; disabling by hand says so.
            ...(patch.enabled === true ? { enabled: true, disabled_reason: null, failing_since: null } : {}),
            ...(patch.enabled === false ? { enabled: false, disabled_reason: 'disabled by its owner' } : {}),
            updated_at: sql`now()`,
          })}
          where id = ${id}
          returning *`,
    );
    if (!row) throw new Error(`no webhook endpoint ${id} to update`);
    return toEndpoint(row);
  }

  async rotate(id: string, secret: string, previousUntil: Date) {
    // Every `set` reads the row as it was: the previous secret is the one being replaced.
    await this.db.run(
      sql`update webhook_endpoints
          set previous_secret = secret, previous_secret_until = ${previousUntil}, secret = ${secret},
              updated_at = now()
          where id = ${id}`,
    );
  }

  async remove(id: string) {
    return (await this.db.run(sql`delete from webhook_endpoints where id = ${id}`)) > 0;
  }

  async insertDelivery(endpointId: string, event: PublicEvent) {
    const id = randomUUID();
    await this.db.run(
      sql`insert into webhook_deliveries ${insertValues({
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
        next_attempt_at: sql`now()`,
        dispatched_until: null,
      })}`,
    );
    return id;
  }

  async listDeliveries(endpointId: string, after: Keyset | undefined, take: number) {
    const rows = await this.db.all<DeliveryRow>(
      sql`select * from webhook_deliveries
          ${where([sql`endpoint_id = ${endpointId}`, olderThan(after)])}
          order by created_at desc, id desc
          limit ${take}`,
    );
    return rows.map(toDelivery);
  }

  async findDelivery(endpointId: string, deliveryId: string) {
    const row = await this.db.first<DeliveryRow>(
      sql`select * from webhook_deliveries where id = ${deliveryId} and endpoint_id = ${endpointId}`,
    );
    return row && toDelivery(row);
  }

  async retryNow(deliveryId: string) {
    const updated = await this.db.run(
      sql`update webhook_deliveries
          set ${setValues(dueAgain)}
          where id = ${deliveryId}`,
    );
    return updated > 0;
  }

  // -------------------------------------------------------------------------------------------------
  // The event side: fan-out, dispatch, results.

  /** The event as the outbox holds it (the fan-out trusts the database, not the queue message). */
  async outboxEvent(eventId: string): Promise<OutboxEvent | undefined> {
    const row = await this.db.first<{ payload: unknown }>(
      sql`select payload from outbox where topic = 'event' and payload ->> 'id' = ${eventId}`,
    );
    return row?.payload as OutboxEvent | undefined;
  }

  /**
   * One pending delivery per endpoint that takes this event: the owner's own endpoints and those of
   * admins (who must still be admins), enabled, whose filter names the type. Repeating it for the same
   * event adds nothing (unique endpoint + event); returns the ids of the deliveries it made now.
   */
  async fanOut(event: { id: string; type: EventType; ownerId: string }, body: string): Promise<string[]> {
    const endpoints = await this.db.all<{ id: string }>(
      sql`select e.id
          from webhook_endpoints as e
          inner join users as u on u.id = e.owner_id
          where e.enabled = true
            and (e.owner_id = ${event.ownerId}
                 or (e.all_videos = true and 'admin' = any(coalesce(u.roles, '{}'))))
            and (e.events is null or ${event.type} = any(e.events))`,
    );
    if (endpoints.length === 0) return [];
    const rows = await this.db.all<{ id: string }>(
      sql`insert into webhook_deliveries
            (id, endpoint_id, event_id, event_type, payload, status, last_status_code, last_error,
             last_latency_ms, last_response, last_attempt_at, next_attempt_at, dispatched_until)
          values ${join(
            endpoints.map(
              (endpoint) =>
                sql`(${randomUUID()}, ${endpoint.id}, ${event.id}, ${event.type}, ${body}, 'pending',
                     null, null, null, null, null, now(), null)`,
            ),
          )}
          on conflict (endpoint_id, event_id) do nothing
          returning id`,
    );
    return rows.map((row) => row.id);
  }

  /**
   * Claims deliveries whose next attempt is due within SQS's delay range and that no attempt is out for
   * (or whose attempt's lease ran out): the given ones, or any. The lease lasts until the attempt is due
   * plus LEASE_SECONDS; the result clears it. Endpoints that are disabled are left alone.
   */
  async claimDue(options: { ids?: string[]; limit: number }): Promise<DueDelivery[]> {
    if (options.ids && options.ids.length === 0) return [];
    return this.db.transaction(async (tx) => {
      const rows = await tx.all<
        Pick<DeliveryRow, 'id' | 'endpoint_id' | 'event_id' | 'payload' | 'attempts' | 'next_attempt_at'> &
          Pick<EndpointRow, 'url' | 'secret' | 'previous_secret' | 'previous_secret_until'>
      >(
        sql`select d.id, d.endpoint_id, d.event_id, d.payload, d.attempts, d.next_attempt_at,
                   e.url, e.secret, e.previous_secret, e.previous_secret_until
            from webhook_deliveries as d
            inner join webhook_endpoints as e on e.id = d.endpoint_id
            ${where([
              sql`d.status = 'pending'`,
              sql`e.enabled = true`,
              sql`d.next_attempt_at <= now() + make_interval(secs => ${MAX_DISPATCH_DELAY_SECONDS})`,
              sql`(d.dispatched_until is null or d.dispatched_until < now())`,
              options.ids && sql`d.id = any(${options.ids})`,
            ])}
            order by d.next_attempt_at
            limit ${options.limit}
            for update of d skip locked`,
      );
      if (rows.length === 0) return [];
      await tx.run(
        sql`update webhook_deliveries
            set dispatched_until = greatest(next_attempt_at, now()) + make_interval(secs => ${LEASE_SECONDS})
            where id = any(${rows.map((row) => row.id)})`,
      );
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
    await this.db.run(
      sql`update webhook_deliveries set ${setValues({ dispatched_until: null })} where id = any(${ids})`,
    );
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
    return this.db.transaction(async (tx) => {
      const delivery = await tx.first<Pick<DeliveryRow, 'id' | 'endpoint_id' | 'attempts' | 'status'>>(
        sql`select id, endpoint_id, attempts, status from webhook_deliveries
            where id = ${result.deliveryId}
            for update`,
      );
      if (!delivery) return { dispatchNow: false, settled: null };
      if (result.kind === 'stale') {
        // Not attempted: its signature was too old when it reached the sender. Sign again, now.
        if (delivery.status === 'succeeded') return { dispatchNow: false, settled: null };
        await tx.run(
          sql`update webhook_deliveries
              set ${setValues(dueAgain)}
              where id = ${delivery.id}`,
        );
        return { dispatchNow: true, settled: null };
      }
      if (result.attempt <= delivery.attempts) return { dispatchNow: false, settled: null };
      const at = new Date(result.at);
      const next = result.succeeded ? null : nextAttemptAfter(result.attempt, at, settings.schedule);
      await tx.run(
        sql`update webhook_deliveries
            set ${setValues({
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
            })}
            where id = ${delivery.id}`,
      );
      if (result.succeeded) {
        await tx.run(
          sql`update webhook_endpoints
              set ${setValues({ failing_since: null })}
              where id = ${delivery.endpoint_id} and failing_since is not null`,
        );
      } else {
        const endpoint = await tx.first<Pick<EndpointRow, 'failing_since' | 'enabled'>>(
          sql`update webhook_endpoints
              set failing_since = coalesce(failing_since, ${at}::timestamptz)
              where id = ${delivery.endpoint_id}
              returning failing_since, enabled`,
        );
        const days = settings.disableAfterDays;
        if (
          endpoint?.enabled &&
          days > 0 &&
          endpoint.failing_since &&
          at.getTime() - new Date(endpoint.failing_since).getTime() >= days * 86_400_000
        ) {
          await tx.run(
            sql`update webhook_endpoints
                set ${setValues({
                  enabled: false,
                  disabled_reason: `disabled automatically: every delivery failed for ${days} days`,
                  updated_at: sql`now()`,
                })}
                where id = ${delivery.endpoint_id}`,
          );
        }
      }
      return {
        dispatchNow: next !== null && next.getTime() - Date.now() <= MAX_DISPATCH_DELAY_SECONDS * 1000,
        settled: result.succeeded ? 'succeeded' : next ? 'retrying' : 'failed',
      };
    });
  }
}

function toEndpoint(row: EndpointRow): WebhookEndpointRecord {
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

function toDelivery(row: DeliveryRow): DeliveryRecord {
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
