import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { PublicEvent } from '#core/events.ts';
import { config } from '#shared/config.ts';
import { eventBus } from '#shared/resources.ts';

let client: EventBridgeClient | undefined;

/**
 * Puts events on the stage's EventBridge bus (EVENT_BUS_NAME): source `videocloud`, detail-type the
 * event type, detail the event as webhooks receive it, ten per call. Returns how many it put; 0 where
 * no bus is configured (the local runtime has no EventBridge stand-in). A refused entry is an error, so
 * the batch is retried (EventBridge consumers see the event id and deduplicate on it).
 */
export async function putOnBus(events: readonly PublicEvent[]): Promise<number> {
  const { eventBusName, region } = config();
  if (!eventBusName || events.length === 0) return 0;
  client ??= new EventBridgeClient({ region });
  for (let i = 0; i < events.length; i += 10) {
    const result = await client.send(
      new PutEventsCommand({
        Entries: events.slice(i, i + 10).map((event) => ({
          EventBusName: eventBusName,
          Source: eventBus.source,
          DetailType: event.type,
          Time: new Date(event.timestamp),
          Resources: [],
          Detail: JSON.stringify(event),
        })),
      }),
    );
    if (result.FailedEntryCount) {
      const failed = result.Entries?.find((entry) => entry.ErrorCode);
      throw new Error(
        `EventBridge refused ${result.FailedEntryCount} event(s): ${failed?.ErrorCode} ${failed?.ErrorMessage}`,
      );
    }
  }
  return events.length;
}
