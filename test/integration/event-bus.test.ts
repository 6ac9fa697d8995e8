/**
 * Events onto EventBridge: the bus has no local stand-in, so PutEvents is mocked (aws-sdk-client-mock);
 * everything before it (the change's transaction, the outbox, the relay, the fan-out, the event-bus
 * queue and its consumer) is the real local stack.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import { eventually } from '#test/helpers/eventually.ts';
import { RUNTIME_START_MS, startTestRuntime, type TestRuntime } from '#test/helpers/runtime.ts';
import { seedVideo } from '#test/helpers/seed.ts';

const eventBridge = mockClient(EventBridgeClient);

describe('the EventBridge bus', () => {
  let runtime: TestRuntime;
  const previous = process.env.EVENT_BUS_NAME;

  beforeAll(async () => {
    process.env.EVENT_BUS_NAME = 'VideoCloud-test';
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'x' }] });
    runtime = await startTestRuntime();
  }, RUNTIME_START_MS);
  afterAll(async () => {
    await runtime?.close();
    eventBridge.restore();
    if (previous === undefined) delete process.env.EVENT_BUS_NAME;
    else process.env.EVENT_BUS_NAME = previous;
  }, 60_000);

  it('gets each event with detail-type = the event type and the delivered event as detail', async () => {
    const alice = await runtime.token('alice', ['creator']);
    const id = await seedVideo({ ownerId: 'alice', status: 'ready', visibility: 'public' });
    const patched = await runtime.api(`/v1/videos/${id}`, {
      method: 'PATCH',
      token: alice,
      json: { title: 'on the bus' },
    });
    expect(patched.status).toBe(200);
    const entry = await eventually(
      () => {
        const entries = eventBridge
          .commandCalls(PutEventsCommand)
          .flatMap((call) => call.args[0].input.Entries ?? []);
        const found = entries.find((e) => e.DetailType === 'video.updated' && e.Detail?.includes(id));
        if (!found) throw new Error(`${entries.length} entries so far`);
        return found;
      },
      { timeoutMs: 20_000, what: 'PutEvents with video.updated' },
    );
    expect(entry).toMatchObject({ EventBusName: 'VideoCloud-test', Source: 'videocloud' });
    const detail = JSON.parse(entry.Detail!) as {
      id: string;
      type: string;
      timestamp: string;
      data: Record<string, unknown>;
    };
    expect(detail).toMatchObject({
      type: 'video.updated',
      data: { id, title: 'on the bus', status: 'ready' },
    });
    expect(entry.Time?.toISOString()).toBe(detail.timestamp);
    // A ready public video's event carries its playback URLs, as the API returns them.
    expect((detail.data.playback as { hls: string }).hls).toMatch(/master\.m3u8$/);
  });
});
