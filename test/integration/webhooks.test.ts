/**
 * Events and webhooks through the whole local stack: a receiver on loopback, endpoints registered over
 * the API, a real upload through the ffmpeg pipeline, and every delivery checked with the
 * `standardwebhooks` package as a receiver would. Then what must not happen: another creator's endpoint
 * hearing of it, SSRF targets being accepted, an event lost to a crash between the change and the send.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { Webhook } from 'standardwebhooks';
import { sharedKysely } from '#adapters/db/connect.ts';
import { recordVideoEvent } from '#adapters/db/events.ts';
import { db } from '#adapters/db/index.ts';
import type { VideoRow } from '#adapters/db/schema.ts';
import { sql as dbSql } from '#adapters/db/sql.ts';
import { PostgresVideoRepository } from '#adapters/db/videos.ts';
import { PostgresWebhooks } from '#adapters/db/webhooks.ts';
import { sendBatchToQueue } from '#adapters/queue.ts';
import { uploadDeps } from '#adapters/uploads.ts';
import { expireUpload } from '#core/uploads.ts';
import { handler as relayOutbox } from '#events/outbox-relay.ts';
import { handler as dispatchWebhooks } from '#events/webhook-dispatcher.ts';
import { deadLetterQueueName, queueNames } from '#shared/resources.ts';
import { eventually } from '#test/helpers/eventually.ts';
import { makeClip } from '#test/helpers/media.ts';
import { RUNTIME_START_MS, startTestRuntime, type TestRuntime } from '#test/helpers/runtime.ts';
import { seedVideo } from '#test/helpers/seed.ts';
import { settledVideo, uploadVideo } from '#test/helpers/upload.ts';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  event: { id: string; type: string; timestamp: string; data: Record<string, unknown> };
  answered: number;
}

/** A webhook receiver on loopback: records every request; answers 500 where `failNext` says so. */
class Receiver {
  readonly requests: Received[] = [];
  /** Per path: event types to answer 500 once. */
  readonly failOnce = new Map<string, Set<string>>();
  /** Paths that always answer 500. */
  readonly alwaysFail = new Set<string>();
  private server?: Server;
  url = '';

  async start() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const event = JSON.parse(body) as Received['event'];
        const path = req.url ?? '/';
        const once = this.failOnce.get(path);
        let status = 200;
        if (this.alwaysFail.has(path)) status = 500;
        else if (once?.has(event.type)) {
          once.delete(event.type);
          status = 500;
        }
        this.requests.push({ path, headers: req.headers, body, event, answered: status });
        res.writeHead(status, { 'content-type': 'text/plain' });
        res.end(status === 200 ? 'thanks' : 'try again later');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  at(path: string) {
    return this.requests.filter((r) => r.path === path);
  }

  stop() {
    return new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

const previous = process.env.WEBHOOK_RETRY_SCHEDULE;
let runtime: TestRuntime;
let receiver: Receiver;
let alice: string;
let bob: string;
let admin: string;
let work: string;

beforeAll(async () => {
  // Three retries a second apart: the whole schedule plays out within a test.
  process.env.WEBHOOK_RETRY_SCHEDULE = '1,1,1';
  runtime = await startTestRuntime();
  receiver = new Receiver();
  await receiver.start();
  alice = await runtime.token('alice', ['creator']);
  bob = await runtime.token('bob', ['creator']);
  admin = await runtime.token('root', ['admin']);
  work = mkdtempSync(join(tmpdir(), 'webhooks-'));
}, RUNTIME_START_MS);
afterAll(async () => {
  await receiver?.stop();
  await runtime?.close();
  rmSync(work, { recursive: true, force: true });
  if (previous === undefined) delete process.env.WEBHOOK_RETRY_SCHEDULE;
  else process.env.WEBHOOK_RETRY_SCHEDULE = previous;
}, 60_000);

async function register(token: string, path: string, extra: Record<string, unknown> = {}) {
  const response = await runtime.api('/v1/webhooks', {
    method: 'POST',
    token,
    json: { url: `${receiver.url}${path}`, ...extra },
  });
  expect(response.status).toBe(201);
  return (await response.json()) as { id: string; secret: string; events: string[]; enabled: boolean };
}

/** The receiver's check: throws unless the delivery verifies with one of the secrets. */
function verify(request: Received, secret: string) {
  return new Webhook(secret).verify(request.body, {
    'webhook-id': String(request.headers['webhook-id']),
    'webhook-timestamp': String(request.headers['webhook-timestamp']),
    'webhook-signature': String(request.headers['webhook-signature']),
  });
}

async function deliveries(token: string, webhookId: string) {
  const response = await runtime.api(`/v1/webhooks/${webhookId}/deliveries?limit=100`, { token });
  expect(response.status).toBe(200);
  return (
    (await response.json()) as {
      items: Array<{
        id: string;
        eventId: string;
        eventType: string;
        status: string;
        attempts: number;
        lastStatusCode: number | null;
        lastLatencyMs: number | null;
        lastResponseExcerpt: string | null;
        lastError: string | null;
        nextAttemptAt: string | null;
      }>;
    }
  ).items;
}

describe('SSRF: refused webhook URLs are a 400 naming the rule', () => {
  it.each([
    ['http://169.254.169.254/', 'link-local'],
    ['http://169.254.169.254/latest/meta-data/iam/security-credentials/', 'link-local'],
    ['https://[fe80::1]/hook', 'link-local'],
    ['http://[::ffff:169.254.169.254]/', 'link-local'],
    ['https://10.0.0.8/hook', 'private'],
    ['https://192.168.1.1/hook', 'private'],
    ['https://172.16.5.4/hook', 'private'],
    ['https://[fd12::1]/hook', 'private'],
    ['https://100.64.0.1/hook', 'cgnat'],
    ['https://224.0.0.1/hook', 'multicast'],
    ['https://0.0.0.0/hook', 'unspecified'],
    ['https://[::]/hook', 'unspecified'],
    ['ftp://example.com/hook', 'scheme'],
    ['https://user:pw@example.com/hook', 'credentials'],
  ])('%s -> %s', async (url, rule) => {
    const response = await runtime.api('/v1/webhooks', { method: 'POST', token: alice, json: { url } });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await response.json()) as {
      detail: string;
      errors: Array<{ path: string; message: string }>;
    };
    expect(problem.detail).toContain(`rule "${rule}"`);
    expect(problem.errors[0]).toMatchObject({ path: 'body.url', message: expect.stringContaining(rule) });
  });

  it('a PATCH to a refused URL is refused the same way, and the endpoint keeps its URL', async () => {
    const hook = await register(alice, '/patch');
    const response = await runtime.api(`/v1/webhooks/${hook.id}`, {
      method: 'PATCH',
      token: alice,
      json: { url: 'http://169.254.169.254/' },
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { detail: string }).detail).toContain('link-local');
    const got = await runtime.api(`/v1/webhooks/${hook.id}`, { token: alice });
    expect(((await got.json()) as { url: string }).url).toBe(`${receiver.url}/patch`);
    expect((await runtime.api(`/v1/webhooks/${hook.id}`, { method: 'DELETE', token: alice })).status).toBe(
      204,
    );
  });

  it('unknown fields and unknown event types are a 400', async () => {
    const unknownField = await runtime.api('/v1/webhooks', {
      method: 'POST',
      token: alice,
      json: { url: `${receiver.url}/x`, secret: 'whsec_mine' },
    });
    expect(unknownField.status).toBe(400);
    const unknownType = await runtime.api('/v1/webhooks', {
      method: 'POST',
      token: alice,
      json: { url: `${receiver.url}/x`, events: ['video.exploded'] },
    });
    expect(unknownType.status).toBe(400);
  });

  it('viewers may not register webhooks', async () => {
    const viewer = await runtime.token('vera', ['viewer']);
    const response = await runtime.api('/v1/webhooks', {
      method: 'POST',
      token: viewer,
      json: { url: `${receiver.url}/v` },
    });
    expect(response.status).toBe(403);
  });
});

describe('an upload, from video.created to video.ready, delivered and signed', () => {
  let aliceHook: { id: string; secret: string };
  let bobHook: { id: string; secret: string };
  let adminHook: { id: string; secret: string };
  let videoId: string;

  beforeAll(async () => {
    aliceHook = await register(alice, '/alice', { description: 'my app' });
    bobHook = await register(bob, '/bob');
    adminHook = await register(admin, '/admin');
    // The first attempt of alice's upload.completed delivery gets a 500.
    receiver.failOnce.set('/alice', new Set(['video.upload.completed']));
    const clip = readFileSync(await makeClip(work, 'clip.mp4', { width: 320, height: 180, seconds: 2 }));
    videoId = await uploadVideo(runtime, alice, clip, { visibility: 'public', title: 'hooked' });
    const video = await settledVideo(runtime, alice, videoId);
    expect(video.status).toBe('ready');
  });

  const ofVideo = (path: string) =>
    receiver.at(path).filter((r) => (r.event.data as { id?: string; videoId?: string }).id === videoId);

  it('alice receives video.created, upload.completed, processing and ready, each verified with standardwebhooks', async () => {
    const types = ['video.created', 'video.upload.completed', 'video.processing', 'video.ready'];
    const got = await eventually(
      () => {
        const answered = ofVideo('/alice').filter((r) => r.answered === 200);
        const missing = types.filter((type) => !answered.some((r) => r.event.type === type));
        if (missing.length) throw new Error(`not yet delivered: ${missing.join(', ')}`);
        return answered;
      },
      { timeoutMs: 30_000, what: "alice's four events" },
    );
    for (const request of got) {
      const verified = verify(request, aliceHook.secret) as { id: string; type: string };
      expect(verified.id).toBe(request.event.id);
      expect(request.headers['webhook-id']).toBe(request.event.id);
      expect(request.headers['content-type']).toBe('application/json');
      expect(Number.isNaN(Date.parse(request.event.timestamp))).toBe(false);
    }
    // Each is verified only by its own endpoint's secret.
    expect(() => verify(got[0]!, bobHook.secret)).toThrow();
    const ready = got.find((r) => r.event.type === 'video.ready')!.event.data as {
      status: string;
      renditions: unknown[];
      durationSeconds: number;
      playback: { hls: string; poster: string } | null;
      ownerId: string;
    };
    expect(ready).toMatchObject({ status: 'ready', ownerId: 'alice' });
    expect(ready.renditions.length).toBeGreaterThan(0);
    expect(ready.durationSeconds).toBeGreaterThan(1);
    expect(ready.playback?.hls).toMatch(/\/master\.m3u8$/);
    // The data is the video as the API returns it to its owner.
    const api = (await (await runtime.api(`/v1/videos/${videoId}`, { token: alice })).json()) as Record<
      string,
      unknown
    >;
    expect(Object.keys(ready).sort()).toEqual(Object.keys(api).sort());
    // Except the storyboard: the derivatives worker makes it after ready, so the event has none, and the
    // API has it once that worker is done (before this read, or after).
    expect(ready.playback).toEqual({ ...(api.playback as object), storyboard: null });
    const processing = got.find((r) => r.event.type === 'video.processing')!.event.data;
    // Planned: none of its transcode jobs done yet.
    expect(processing).toMatchObject({ status: 'processing', progress: 0 });
    expect(got.find((r) => r.event.type === 'video.created')!.event.data).toMatchObject({
      status: 'uploading',
    });
  });

  it('after a 500 the same event comes again with the same webhook-id, and verifies', async () => {
    const attempts = await eventually(
      () => {
        const completed = ofVideo('/alice').filter((r) => r.event.type === 'video.upload.completed');
        if (completed.length < 2) throw new Error(`${completed.length} attempt(s) so far`);
        return completed;
      },
      { timeoutMs: 30_000, what: 'the retry after a 500' },
    );
    expect(attempts[0]!.answered).toBe(500);
    expect(attempts[1]!.answered).toBe(200);
    expect(attempts[1]!.headers['webhook-id']).toBe(attempts[0]!.headers['webhook-id']);
    expect(attempts[1]!.body).toBe(attempts[0]!.body);
    verify(attempts[1]!, aliceHook.secret);
  });

  it('the deliveries are listed with attempts, status code, latency, excerpt and no next attempt once done', async () => {
    const listed = await eventually(
      async () => {
        const items = (await deliveries(alice, aliceHook.id)).filter((d) => d.status === 'succeeded');
        if (items.length < 4) throw new Error(`${items.length} succeeded so far`);
        return items;
      },
      { timeoutMs: 30_000, what: 'four succeeded deliveries' },
    );
    const completed = listed.find((d) => d.eventType === 'video.upload.completed')!;
    expect(completed).toMatchObject({
      status: 'succeeded',
      attempts: 2,
      lastStatusCode: 200,
      lastResponseExcerpt: 'thanks',
      lastError: null,
      nextAttemptAt: null,
    });
    expect(completed.lastLatencyMs).toBeGreaterThanOrEqual(0);
    expect(completed.eventId).toBe(
      ofVideo('/alice').find((r) => r.event.type === 'video.upload.completed')!.headers['webhook-id'],
    );
    expect(listed.find((d) => d.eventType === 'video.ready')).toMatchObject({ attempts: 1 });
  });

  it("the admin's endpoint hears of every video; bob's hears nothing of alice's", async () => {
    await eventually(
      () => {
        const ready = ofVideo('/admin').find((r) => r.event.type === 'video.ready');
        if (!ready) throw new Error('admin has no video.ready yet');
        verify(ready, adminHook.secret);
      },
      { timeoutMs: 30_000, what: "the admin's video.ready" },
    );
    expect(ofVideo('/bob')).toEqual([]);
    expect(await deliveries(bob, bobHook.id)).toEqual([]);
  });

  it("bob cannot see, change, test, list or redeliver alice's endpoint: 404, as if it did not exist", async () => {
    const delivery = (await deliveries(alice, aliceHook.id))[0]!;
    const paths: Array<[string, string, unknown?]> = [
      ['GET', `/v1/webhooks/${aliceHook.id}`],
      ['PATCH', `/v1/webhooks/${aliceHook.id}`, { enabled: false }],
      ['DELETE', `/v1/webhooks/${aliceHook.id}`],
      ['POST', `/v1/webhooks/${aliceHook.id}/rotate-secret`],
      ['POST', `/v1/webhooks/${aliceHook.id}/test`],
      ['GET', `/v1/webhooks/${aliceHook.id}/deliveries`],
      ['POST', `/v1/webhooks/${aliceHook.id}/deliveries/${delivery.id}/retry`],
    ];
    for (const [method, path, json] of paths) {
      const response = await runtime.api(path, { method, token: bob, ...(json ? { json } : {}) });
      expect({ method, path, status: response.status }).toEqual({ method, path, status: 404 });
    }
    // Nor does the admin see alice's: endpoints belong to whoever registered them.
    expect((await runtime.api(`/v1/webhooks/${aliceHook.id}`, { token: admin })).status).toBe(404);
    const listed = (await (await runtime.api('/v1/webhooks', { token: bob })).json()) as {
      items: Array<{ id: string }>;
    };
    expect(listed.items.map((w) => w.id)).toEqual([bobHook.id]);
    // The secret is never shown again.
    const got = (await (
      await runtime.api(`/v1/webhooks/${aliceHook.id}`, { token: alice })
    ).json()) as Record<string, unknown>;
    expect(got).not.toHaveProperty('secret');
    expect(got).toMatchObject({ description: 'my app', enabled: true, disabledReason: null });
  });

  it('a redelivery sends the same event again, with the same webhook-id', async () => {
    const ready = (await deliveries(alice, aliceHook.id)).find((d) => d.eventType === 'video.ready')!;
    const before = ofVideo('/alice').filter((r) => r.event.type === 'video.ready').length;
    const response = await runtime.api(`/v1/webhooks/${aliceHook.id}/deliveries/${ready.id}/retry`, {
      method: 'POST',
      token: alice,
    });
    expect(response.status).toBe(202);
    const again = await eventually(
      () => {
        const all = ofVideo('/alice').filter((r) => r.event.type === 'video.ready');
        if (all.length <= before) throw new Error('not redelivered yet');
        return all;
      },
      { timeoutMs: 20_000, what: 'the redelivery' },
    );
    expect(again.at(-1)!.headers['webhook-id']).toBe(ready.eventId);
    verify(again.at(-1)!, aliceHook.secret);
    await eventually(
      async () => {
        const row = (await deliveries(alice, aliceHook.id)).find((d) => d.id === ready.id)!;
        expect(row).toMatchObject({ status: 'succeeded', attempts: 2 });
      },
      { timeoutMs: 20_000, what: 'the redelivery recorded' },
    );
  });

  it('an update and a delete are delivered too, and the video.deleted data has no playback', async () => {
    const patched = await runtime.api(`/v1/videos/${videoId}`, {
      method: 'PATCH',
      token: alice,
      json: { title: 'renamed' },
    });
    expect(patched.status).toBe(200);
    expect((await runtime.api(`/v1/videos/${videoId}`, { method: 'DELETE', token: alice })).status).toBe(204);
    const got = await eventually(
      () => {
        // The derivatives worker's own video.updated (storyboard made) may come first: find the rename.
        const updated = ofVideo('/alice').find(
          (r) => r.event.type === 'video.updated' && r.event.data.title === 'renamed',
        );
        const deleted = ofVideo('/alice').find((r) => r.event.type === 'video.deleted');
        if (!updated || !deleted) throw new Error('not yet');
        return { updated, deleted };
      },
      { timeoutMs: 20_000, what: 'video.updated and video.deleted' },
    );
    expect(got.updated.event.data).toMatchObject({ title: 'renamed' });
    expect(got.deleted.event.data).toMatchObject({ id: videoId, playback: null });
  });
});

describe('tests, rotation, filters and the end of the schedule', () => {
  it('a test event reaches only that endpoint; after a rotation it verifies with the old and the new secret', async () => {
    const hook = await register(bob, '/rotate');
    const rotated = await runtime.api(`/v1/webhooks/${hook.id}/rotate-secret`, {
      method: 'POST',
      token: bob,
    });
    expect(rotated.status).toBe(200);
    const { secret } = (await rotated.json()) as { secret: string };
    expect(secret).toMatch(/^whsec_/);
    expect(secret).not.toBe(hook.secret);
    const test = await runtime.api(`/v1/webhooks/${hook.id}/test`, { method: 'POST', token: bob });
    expect(test.status).toBe(202);
    const { eventId } = (await test.json()) as { eventId: string };
    const request = await eventually(
      () => {
        const found = receiver.at('/rotate').find((r) => r.event.id === eventId);
        if (!found) throw new Error('no test event yet');
        return found;
      },
      { timeoutMs: 20_000, what: 'the test event' },
    );
    expect(request.event.type).toBe('webhook.test');
    expect(String(request.headers['webhook-signature']).split(' ')).toHaveLength(2);
    verify(request, secret);
    verify(request, hook.secret);
  });

  it('an endpoint takes only the event types it asked for', async () => {
    const hook = await register(bob, '/filtered', { events: ['video.deleted'] });
    expect(hook.events).toEqual(['video.deleted']);
    const id = await seedVideo({ ownerId: 'bob', status: 'ready' });
    await runtime.api(`/v1/videos/${id}`, { method: 'PATCH', token: bob, json: { title: 'x' } });
    await runtime.api(`/v1/videos/${id}`, { method: 'DELETE', token: bob });
    await eventually(
      () => {
        if (!receiver.at('/filtered').some((r) => r.event.type === 'video.deleted'))
          throw new Error('not yet');
      },
      { timeoutMs: 20_000, what: 'the filtered endpoint to get video.deleted' },
    );
    expect(receiver.at('/filtered').map((r) => r.event.type)).toEqual(['video.deleted']);
  });

  it('an endpoint that always fails gets every attempt of the schedule, then the delivery is failed and in the DLQ', async () => {
    const hook = await register(bob, '/down');
    receiver.alwaysFail.add('/down');
    const dlqBefore = runtime.queues.depth(deadLetterQueueName(queueNames.webhookDeliveries));
    await runtime.api(`/v1/webhooks/${hook.id}/test`, { method: 'POST', token: bob });
    const failed = await eventually(
      async () => {
        const [delivery] = await deliveries(bob, hook.id);
        if (delivery?.status !== 'failed') throw new Error(`delivery is ${delivery?.status}`);
        return delivery;
      },
      { timeoutMs: 40_000, what: 'the delivery to fail' },
    );
    // One attempt and the three retries of WEBHOOK_RETRY_SCHEDULE=1,1,1, all with the same webhook-id.
    expect(failed).toMatchObject({ attempts: 4, lastStatusCode: 500, nextAttemptAt: null });
    expect(failed.lastError).toContain('500');
    const attempts = receiver.at('/down');
    expect(attempts).toHaveLength(4);
    expect(new Set(attempts.map((r) => r.headers['webhook-id']))).toEqual(new Set([failed.eventId]));
    await eventually(
      () => {
        expect(runtime.queues.depth(deadLetterQueueName(queueNames.webhookDeliveries))).toBe(dlqBefore + 1);
      },
      { timeoutMs: 10_000, what: 'the failed delivery in the DLQ' },
    );
    const parked = JSON.parse(
      runtime.queues.peek(deadLetterQueueName(queueNames.webhookDeliveries)).at(-1)!,
    ) as Record<string, unknown>;
    expect(parked).toMatchObject({ deliveryId: failed.id, final: true });
    // Nothing in the queues carries a secret: attempts are signed before they leave the VPC.
    expect(JSON.stringify(parked)).not.toContain(hook.secret);
  });

  it('a disabled endpoint gets nothing, and a test is refused until it is enabled again', async () => {
    const hook = await register(bob, '/off');
    const off = await runtime.api(`/v1/webhooks/${hook.id}`, {
      method: 'PATCH',
      token: bob,
      json: { enabled: false },
    });
    expect(((await off.json()) as { enabled: boolean; disabledReason: string }).disabledReason).toBe(
      'disabled by its owner',
    );
    expect((await runtime.api(`/v1/webhooks/${hook.id}/test`, { method: 'POST', token: bob })).status).toBe(
      409,
    );
    const on = await runtime.api(`/v1/webhooks/${hook.id}`, {
      method: 'PATCH',
      token: bob,
      json: { enabled: true },
    });
    expect(await on.json()).toMatchObject({ enabled: true, disabledReason: null });
  });

  it('an endpoint whose every delivery failed for WEBHOOK_DISABLE_AFTER_DAYS is disabled', async () => {
    const hook = await register(bob, '/streak');
    const repo = new PostgresWebhooks(await db());
    const settings = { schedule: [60], disableAfterDays: 5 };
    const delivery = async () =>
      repo.insertDelivery(hook.id, {
        id: crypto.randomUUID(),
        type: 'webhook.test',
        timestamp: '',
        data: {},
      });
    const fail = async (id: string, at: string) =>
      repo.recordResult(
        {
          kind: 'attempted',
          deliveryId: id,
          attempt: 1,
          at,
          succeeded: false,
          statusCode: 503,
          latencyMs: 3,
          responseExcerpt: null,
          error: 'answered 503',
        },
        settings,
      );
    const first = await delivery();
    // Schedule [60]: the first attempt's failure leaves one retry; the retry's failure settles it.
    expect(await fail(first, '2030-01-01T00:00:00.000Z')).toMatchObject({ settled: 'retrying' });
    expect(await fail(first, '2030-01-01T00:00:00.000Z')).toEqual({ dispatchNow: false, settled: null });
    await fail(await delivery(), '2030-01-05T23:00:00.000Z');
    expect((await repo.find(hook.id))!.enabled).toBe(true);
    await fail(await delivery(), '2030-01-06T00:00:00.000Z');
    const disabled = (await (await runtime.api(`/v1/webhooks/${hook.id}`, { token: bob })).json()) as {
      enabled: boolean;
      disabledReason: string;
    };
    expect(disabled.enabled).toBe(false);
    expect(disabled.disabledReason).toContain('5 days');
  });
});

describe('uploads that end without a video', () => {
  it('an aborted upload tells upload.aborted, then video.deleted', async () => {
    const hook = await register(alice, '/aborts', { events: ['upload.aborted', 'video.deleted'] });
    const created = await runtime.api('/v1/uploads', {
      method: 'POST',
      token: alice,
      json: { filename: 'a.mp4', contentType: 'video/mp4', size: 1000, title: 'never' },
    });
    const { uploadId, videoId } = (await created.json()) as { uploadId: string; videoId: string };
    expect((await runtime.api(`/v1/uploads/${uploadId}`, { method: 'DELETE', token: alice })).status).toBe(
      204,
    );
    const got = await eventually(
      () => {
        const types = receiver.at('/aborts').map((r) => r.event.type);
        if (types.length < 2) throw new Error(`got ${types.join(', ')}`);
        return receiver.at('/aborts');
      },
      { timeoutMs: 20_000, what: 'upload.aborted and video.deleted' },
    );
    expect(got.map((r) => r.event.type)).toEqual(['upload.aborted', 'video.deleted']);
    expect(got[0]!.event.data).toMatchObject({ uploadId, videoId, status: 'aborted', size: 1000 });
    verify(got[0]!, hook.secret);
  });

  it('an expired upload tells upload.expired, then video.deleted', async () => {
    await register(alice, '/expiry', { events: ['upload.expired', 'video.deleted'] });
    const created = await runtime.api('/v1/uploads', {
      method: 'POST',
      token: alice,
      json: { filename: 'b.mp4', contentType: 'video/mp4', size: 1000, title: 'too late' },
    });
    const { uploadId, videoId } = (await created.json()) as { uploadId: string; videoId: string };
    // A day and an hour later, as the expiry sweep sees it.
    const later = { ...(await uploadDeps()), now: () => Date.now() + 25 * 3600 * 1000 };
    expect(await expireUpload(later, uploadId)).toBe(true);
    const got = await eventually(
      () => {
        if (receiver.at('/expiry').length < 2) throw new Error('not yet');
        return receiver.at('/expiry');
      },
      { timeoutMs: 20_000, what: 'upload.expired and video.deleted' },
    );
    expect(got.map((r) => r.event.type)).toEqual(['upload.expired', 'video.deleted']);
    expect(got[0]!.event.data).toMatchObject({ uploadId, videoId, status: 'expired' });
    expect((await runtime.api(`/v1/videos/${videoId}`, { token: alice })).status).toBe(404);
  });
});

describe('no event is lost to a crash', () => {
  it('a change whose function dies after the commit is delivered by the minute relay', async () => {
    await register(bob, '/crash', { events: ['video.updated'] });
    const id = await seedVideo({ ownerId: 'bob', status: 'ready' });
    // The change commits with its event; the process "dies" before its fast path sends anything.
    const crashing = new PostgresVideoRepository(await db(), {
      afterOutboxWrite: async () => {
        throw new Error('killed');
      },
    });
    await crashing.update(id, { title: 'after the crash' }, { revokePlayback: false });
    const stored = await sql<{ n: string }>`select count(*) as n from outbox
      where topic = 'event' and published_at is null and payload ->> 'videoId' = ${id}`.execute(
      await sharedKysely(),
    );
    expect(Number(stored.rows[0]!.n)).toBe(1);
    expect(receiver.at('/crash')).toEqual([]);
    // What the every-minute schedule runs.
    await relayOutbox();
    const got = await eventually(
      () => {
        const found = receiver.at('/crash').find((r) => (r.event.data as { id: string }).id === id);
        if (!found) throw new Error('not delivered yet');
        return found;
      },
      { timeoutMs: 20_000, what: 'the event after the relay' },
    );
    expect(got.event.data).toMatchObject({ title: 'after the crash' });
  });

  it('a change that rolls back leaves no event: the event is written in its transaction', async () => {
    const id = await seedVideo({ ownerId: 'bob', status: 'ready' });
    await expect(
      (await db()).transaction(async (tx) => {
        const row = await tx.first<VideoRow>(
          dbSql`update videos set title = ${'never seen'} where id = ${id} returning *`,
        );
        await recordVideoEvent(tx, 'video.updated', row!);
        throw new Error('the function dies before the commit');
      }),
    ).rejects.toThrow('dies');
    const stored = await sql<{ n: string }>`select count(*) as n from outbox
      where topic = 'event' and payload ->> 'videoId' = ${id}`.execute(await sharedKysely());
    expect(Number(stored.rows[0]!.n)).toBe(0);
  });

  it('deliveries made by a fan-out that died before dispatching are sent by the minute dispatcher', async () => {
    const hook = await register(bob, '/lost');
    const repo = new PostgresWebhooks(await db());
    const event = {
      id: crypto.randomUUID(),
      type: 'webhook.test' as const,
      timestamp: new Date().toISOString(),
      data: {},
    };
    await repo.insertDelivery(hook.id, event); // made, never dispatched
    await dispatchWebhooks();
    await eventually(
      () => {
        if (!receiver.at('/lost').some((r) => r.event.id === event.id)) throw new Error('not delivered yet');
      },
      { timeoutMs: 20_000, what: 'the dispatcher to send it' },
    );
  });

  it('a forged message on the events queue delivers nothing: the fan-out reads events from the outbox', async () => {
    await register(bob, '/forged');
    await sendBatchToQueue('webhookEvents', [
      {
        id: crypto.randomUUID(),
        type: 'video.ready',
        timestamp: new Date().toISOString(),
        ownerId: 'bob',
        data: {},
      },
    ]);
    // Something real afterwards, to know the queue moved past the forgery.
    const id = await seedVideo({ ownerId: 'bob', status: 'ready' });
    await runtime.api(`/v1/videos/${id}`, { method: 'PATCH', token: bob, json: { title: 'real' } });
    await eventually(
      () => {
        if (!receiver.at('/forged').some((r) => r.event.type === 'video.updated')) throw new Error('not yet');
      },
      { timeoutMs: 20_000, what: 'the real event' },
    );
    expect(receiver.at('/forged').map((r) => r.event.type)).toEqual(['video.updated']);
  });
});
