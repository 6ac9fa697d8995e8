import { randomUUID } from 'node:crypto';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from './errors.ts';
import { type EventType, eventTypes, type PublicEvent } from './events.ts';
import { decodeCursor, type Keyset, toPage } from './pagination.ts';
import { can } from './policy.ts';
import type { Principal } from './principal.ts';
import { newWebhookSecret, type SignedHeaders, signedHeaders } from './webhook-signature.ts';
import { parseWebhookUrl, refuseAddresses, type UrlPolicy } from './webhook-url.ts';

/**
 * Webhook endpoints and their deliveries. An endpoint belongs to whoever registered it: a creator's
 * receives events of that creator's videos, an admin's events of every video (while its owner is still
 * an admin). Anyone else is told it does not exist. The secret is returned at creation and rotation only;
 * after a rotation the old secret signs beside the new one for 24 h.
 *
 * A delivery is one event for one endpoint. Every attempt is a message to the sender (outside the VPC,
 * no database), signed here, in the VPC, with the endpoint's current secrets and URL; the sender reports
 * what the endpoint answered, and the recorder schedules the next attempt from WEBHOOK_RETRY_SCHEDULE.
 */
export const ROTATION_OVERLAP_MS = 24 * 3600 * 1000;
export const MAX_ENDPOINTS_PER_OWNER = 20;
/** A 2xx within this is success; anything else, or nothing, is a failed attempt. */
export const DELIVERY_TIMEOUT_MS = 10_000;
/** What the sender reads of an answer, and how much of it a delivery keeps. */
export const RESPONSE_READ_BYTES = 4096;
export const RESPONSE_EXCERPT_CHARS = 256;
/** Signatures carry the time they were made; receivers refuse them after 5 minutes. */
export const SIGNATURE_FRESH_SECONDS = 240;
/** SQS delays a message at most 15 minutes: attempts due later are dispatched by the minute's sweep. */
export const MAX_DISPATCH_DELAY_SECONDS = 900;

export interface WebhookEndpointRecord {
  id: string;
  ownerId: string;
  allVideos: boolean;
  url: string;
  description: string;
  events: EventType[] | null;
  enabled: boolean;
  disabledReason: string | null;
  secret: string;
  previousSecret: string | null;
  previousSecretUntil: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface WebhookView {
  id: string;
  url: string;
  description: string;
  events: EventType[];
  enabled: boolean;
  disabledReason: string | null;
  createdAt: string;
  updatedAt: string;
}

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

export interface DeliveryRecord {
  id: string;
  endpointId: string;
  eventId: string;
  eventType: string;
  status: DeliveryStatus;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  lastLatencyMs: number | null;
  lastResponse: string | null;
  lastAttemptAt: Date | null;
  nextAttemptAt: Date | null;
  createdAt: Date;
}

export interface DeliveryView {
  id: string;
  eventId: string;
  eventType: string;
  status: DeliveryStatus;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  lastLatencyMs: number | null;
  lastResponseExcerpt: string | null;
  lastAttemptAt: string | null;
  nextAttemptAt: string | null;
  createdAt: string;
}

export interface EndpointPatch {
  url?: string;
  description?: string;
  events?: EventType[] | null;
  enabled?: boolean;
}

export interface WebhookRepository {
  insert(endpoint: Omit<WebhookEndpointRecord, 'createdAt' | 'updatedAt'>): Promise<WebhookEndpointRecord>;
  find(id: string): Promise<WebhookEndpointRecord | undefined>;
  /** The owner's endpoints, newest first, after `after`; `take` rows at most. */
  list(ownerId: string, after: Keyset | undefined, take: number): Promise<WebhookEndpointRecord[]>;
  count(ownerId: string): Promise<number>;
  update(id: string, patch: EndpointPatch): Promise<WebhookEndpointRecord>;
  rotate(id: string, secret: string, previousUntil: Date): Promise<void>;
  remove(id: string): Promise<boolean>;
  /** A delivery of `event` to this endpoint only, due now; returns its id. */
  insertDelivery(endpointId: string, event: PublicEvent): Promise<string>;
  listDeliveries(endpointId: string, after: Keyset | undefined, take: number): Promise<DeliveryRecord[]>;
  findDelivery(endpointId: string, deliveryId: string): Promise<DeliveryRecord | undefined>;
  /** Makes the delivery due now (pending again if it had failed); false if it is gone. */
  retryNow(deliveryId: string): Promise<boolean>;
}

export interface WebhookDeps {
  repo: WebhookRepository;
  policy: UrlPolicy;
  /** The host's addresses (a DNS lookup); [] when it does not resolve. */
  resolve(host: string): Promise<string[]>;
  /** Hands due deliveries to the sender now (best effort: the minute's sweep catches what it misses). */
  dispatch(deliveryIds: string[]): Promise<void>;
  now?: () => Date;
}

const allTypes = (events: EventType[] | null): EventType[] => events ?? [...eventTypes];

export function toWebhookView(endpoint: WebhookEndpointRecord): WebhookView {
  return {
    id: endpoint.id,
    url: endpoint.url,
    description: endpoint.description,
    events: allTypes(endpoint.events),
    enabled: endpoint.enabled,
    disabledReason: endpoint.disabledReason,
    createdAt: endpoint.createdAt.toISOString(),
    updatedAt: endpoint.updatedAt.toISOString(),
  };
}

export function toDeliveryView(delivery: DeliveryRecord): DeliveryView {
  return {
    id: delivery.id,
    eventId: delivery.eventId,
    eventType: delivery.eventType,
    status: delivery.status,
    attempts: delivery.attempts,
    lastStatusCode: delivery.lastStatusCode,
    lastError: delivery.lastError,
    lastLatencyMs: delivery.lastLatencyMs,
    lastResponseExcerpt: delivery.lastResponse,
    lastAttemptAt: delivery.lastAttemptAt?.toISOString() ?? null,
    nextAttemptAt: delivery.nextAttemptAt?.toISOString() ?? null,
    createdAt: delivery.createdAt.toISOString(),
  };
}

/** A URL a webhook may point at, or a 400 naming the rule it breaks. */
export async function assertWebhookUrl(deps: Pick<WebhookDeps, 'policy' | 'resolve'>, raw: string) {
  const parsed = parseWebhookUrl(raw, deps.policy);
  const refusal = parsed.ok
    ? parsed.value.literal
      ? null
      : refuseAddresses(parsed.value.url, await deps.resolve(parsed.value.host), deps.policy)
    : parsed.refusal;
  if (refusal) {
    throw new ValidationError(`The webhook URL is not allowed (rule "${refusal.rule}"): ${refusal.message}`, {
      errors: [{ path: 'body.url', message: `${refusal.rule}: ${refusal.message}` }],
    });
  }
  return parsed.ok ? parsed.value.url.toString() : raw;
}

function assertMay(principal: Principal, write: boolean): void {
  if (!can(principal, write ? 'manage-webhooks' : 'read-webhooks')) {
    throw new ForbiddenError(
      write
        ? 'Managing webhooks needs the creator or admin role (and videos:write when the credential has scopes)'
        : 'Reading webhooks needs the creator or admin role (and videos:read when the credential has scopes)',
    );
  }
}

/** The caller's own endpoint; anyone else's, or none, is "not found". */
async function ownEndpoint(deps: WebhookDeps, principal: Principal, id: string, write: boolean) {
  assertMay(principal, write);
  const endpoint = UUID.test(id) ? await deps.repo.find(id) : undefined;
  if (!endpoint || endpoint.ownerId !== principal.userId) throw new NotFoundError(`No webhook with id ${id}`);
  return endpoint;
}

export async function createWebhook(
  deps: WebhookDeps,
  principal: Principal,
  input: { url: string; description?: string | undefined; events?: EventType[] | undefined },
): Promise<WebhookView & { secret: string }> {
  assertMay(principal, true);
  const url = await assertWebhookUrl(deps, input.url);
  if ((await deps.repo.count(principal.userId)) >= MAX_ENDPOINTS_PER_OWNER) {
    throw new ConflictError(`You already have ${MAX_ENDPOINTS_PER_OWNER} webhooks; delete one first`);
  }
  const secret = newWebhookSecret();
  const endpoint = await deps.repo.insert({
    id: randomUUID(),
    ownerId: principal.userId,
    allVideos: principal.roles.includes('admin'),
    url,
    description: input.description ?? '',
    events: input.events ? [...new Set(input.events)] : null,
    enabled: true,
    disabledReason: null,
    secret,
    previousSecret: null,
    previousSecretUntil: null,
  });
  return { ...toWebhookView(endpoint), secret };
}

export async function listWebhooks(
  deps: WebhookDeps,
  principal: Principal,
  request: { limit: number; cursor?: string | undefined },
) {
  assertMay(principal, false);
  const rows = await deps.repo.list(
    principal.userId,
    request.cursor ? decodeCursor(request.cursor) : undefined,
    request.limit + 1,
  );
  const page = toPage(rows, request.limit);
  return { items: page.items.map(toWebhookView), nextCursor: page.nextCursor };
}

export async function getWebhook(deps: WebhookDeps, principal: Principal, id: string) {
  return toWebhookView(await ownEndpoint(deps, principal, id, false));
}

export async function updateWebhook(
  deps: WebhookDeps,
  principal: Principal,
  id: string,
  patch: EndpointPatch,
): Promise<WebhookView> {
  const endpoint = await ownEndpoint(deps, principal, id, true);
  if (Object.keys(patch).length === 0) return toWebhookView(endpoint);
  const url = patch.url === undefined ? undefined : await assertWebhookUrl(deps, patch.url);
  const events = patch.events === undefined ? undefined : [...new Set(patch.events)];
  return toWebhookView(
    await deps.repo.update(id, {
      ...patch,
      ...(url !== undefined ? { url } : {}),
      ...(events !== undefined ? { events } : {}),
    }),
  );
}

export async function deleteWebhook(deps: WebhookDeps, principal: Principal, id: string): Promise<void> {
  await ownEndpoint(deps, principal, id, true);
  await deps.repo.remove(id);
}

export async function rotateWebhookSecret(deps: WebhookDeps, principal: Principal, id: string) {
  await ownEndpoint(deps, principal, id, true);
  const secret = newWebhookSecret();
  const now = deps.now?.() ?? new Date();
  await deps.repo.rotate(id, secret, new Date(now.getTime() + ROTATION_OVERLAP_MS));
  return { secret };
}

/** A `webhook.test` event to this endpoint alone (whatever its event filter says). */
export async function sendTestEvent(deps: WebhookDeps, principal: Principal, id: string) {
  const endpoint = await ownEndpoint(deps, principal, id, true);
  if (!endpoint.enabled) throw new ConflictError('This webhook is disabled; enable it to send a test event');
  const now = deps.now?.() ?? new Date();
  const event: PublicEvent = {
    id: randomUUID(),
    type: 'webhook.test',
    timestamp: now.toISOString(),
    data: { webhook: toWebhookView(endpoint), message: 'A test event from VideoCloud' },
  };
  const deliveryId = await deps.repo.insertDelivery(endpoint.id, event);
  await deps.dispatch([deliveryId]);
  return { eventId: event.id, deliveryId };
}

export async function listDeliveries(
  deps: WebhookDeps,
  principal: Principal,
  id: string,
  request: { limit: number; cursor?: string | undefined },
) {
  const endpoint = await ownEndpoint(deps, principal, id, false);
  const rows = await deps.repo.listDeliveries(
    endpoint.id,
    request.cursor ? decodeCursor(request.cursor) : undefined,
    request.limit + 1,
  );
  const page = toPage(rows, request.limit);
  return { items: page.items.map(toDeliveryView), nextCursor: page.nextCursor };
}

/** Another attempt now, with the same webhook-id (whatever the delivery's status). */
export async function retryDelivery(deps: WebhookDeps, principal: Principal, id: string, deliveryId: string) {
  const endpoint = await ownEndpoint(deps, principal, id, true);
  const delivery = UUID.test(deliveryId) ? await deps.repo.findDelivery(endpoint.id, deliveryId) : undefined;
  if (!delivery) throw new NotFoundError(`No delivery with id ${deliveryId}`);
  if (!endpoint.enabled) throw new ConflictError('This webhook is disabled; enable it to redeliver');
  if (await deps.repo.retryNow(delivery.id)) await deps.dispatch([delivery.id]);
}

// ---------------------------------------------------------------------------------------------------
// Attempts: what the dispatcher sends, what the sender reports, what the recorder makes of it.

/** One attempt, as the deliveries queue carries it. Signed already: the sender never sees a secret. */
export interface AttemptMessage {
  deliveryId: string;
  endpointId: string;
  attempt: number;
  /** The last one the schedule allows: if it fails, the delivery is failed (and parked in the DLQ). */
  final: boolean;
  url: string;
  body: string;
  headers: SignedHeaders;
}

/** What one attempt got, as the results queue carries it. `stale`: not attempted (signature too old). */
export type AttemptResult =
  | {
      kind: 'attempted';
      deliveryId: string;
      attempt: number;
      at: string;
      succeeded: boolean;
      statusCode: number | null;
      latencyMs: number | null;
      responseExcerpt: string | null;
      error: string | null;
    }
  | { kind: 'stale'; deliveryId: string; attempt: number };

export interface DueDelivery {
  id: string;
  endpointId: string;
  eventId: string;
  payload: string;
  /** Attempts made so far. */
  attempts: number;
  nextAttemptAt: Date;
  url: string;
  secrets: string[];
}

export const maxAttempts = (schedule: readonly number[]) => schedule.length + 1;

/** The message for a delivery's next attempt, signed for the moment it is due (at the earliest, now). */
export function attemptMessage(
  due: DueDelivery,
  schedule: readonly number[],
  now: Date,
): { message: AttemptMessage; delaySeconds: number } {
  const delaySeconds = Math.min(
    MAX_DISPATCH_DELAY_SECONDS,
    Math.max(0, Math.ceil((due.nextAttemptAt.getTime() - now.getTime()) / 1000)),
  );
  const sendAt = Math.floor(now.getTime() / 1000) + delaySeconds;
  const attempt = due.attempts + 1;
  return {
    delaySeconds,
    message: {
      deliveryId: due.id,
      endpointId: due.endpointId,
      attempt,
      final: attempt >= maxAttempts(schedule),
      url: due.url,
      body: due.payload,
      headers: signedHeaders(due.secrets, due.eventId, sendAt, due.payload),
    },
  };
}

/** The secrets that sign now: the current one, and the previous one during its overlap. */
export function signingSecrets(
  endpoint: Pick<WebhookEndpointRecord, 'secret' | 'previousSecret' | 'previousSecretUntil'>,
  now: Date,
) {
  return endpoint.previousSecret && endpoint.previousSecretUntil && endpoint.previousSecretUntil > now
    ? [endpoint.secret, endpoint.previousSecret]
    : [endpoint.secret];
}

/** After a failed attempt: when the next is due, or null when that was the last the schedule allows. */
export function nextAttemptAfter(attempt: number, at: Date, schedule: readonly number[]): Date | null {
  if (attempt >= maxAttempts(schedule)) return null;
  return new Date(at.getTime() + schedule[Math.max(0, attempt - 1)]! * 1000);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
