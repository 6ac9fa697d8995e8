import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '#shared/config.ts';
import {
  deadLetterTargets,
  type QueueUrlVariable,
  queueKeyOf,
  queueNameOf,
  queueNames,
  queueRefs,
  queueUrlVariable,
} from '#shared/resources.ts';

describe('one registry of queue names', () => {
  it('names each queue URL variable by one rule, the same at run time as in the type', () => {
    const cleanup: QueueUrlVariable<'mediaCleanup'> = queueUrlVariable('mediaCleanup');
    const dlq: QueueUrlVariable<'webhookDeliveriesDlq'> = queueUrlVariable('webhookDeliveriesDlq');
    expect([cleanup, dlq]).toEqual(['MEDIA_CLEANUP_QUEUE_URL', 'WEBHOOK_DELIVERIES_DLQ_URL']);
    expect(queueRefs.map(queueUrlVariable)).toEqual([
      'INGEST_QUEUE_URL',
      'MEDIA_CLEANUP_QUEUE_URL',
      ...queueRefs
        .slice(2, -deadLetterTargets.length)
        .map(() => expect.stringMatching(/^[A-Z_]+_QUEUE_URL$/)),
      'WEBHOOK_DELIVERIES_DLQ_URL',
    ]);
    expect(new Set(queueRefs.map(queueUrlVariable)).size).toBe(queueRefs.length);
  });

  it('maps names and keys both ways, dead-letter queues included', () => {
    for (const [key, name] of Object.entries(queueNames)) expect(queueKeyOf(name)).toBe(key);
    expect(queueNameOf('webhookDeliveriesDlq')).toBe('webhook-deliveries-dlq');
    expect(() => queueKeyOf('cleanup')).toThrow(/no queue is named "cleanup"/);
  });

  it('reads every queue URL the configuration is given, under its key', () => {
    const env: Record<string, string> = {
      PGLITE_DATA_DIR: '/tmp/x',
      UPLOADS_BUCKET: 'uploads',
      MEDIA_BUCKET: 'media',
      STATE_TABLE: 'state',
      COGNITO_USER_POOL_ID: 'us-east-1_Test',
      COGNITO_CLIENT_ID: 'client',
    };
    for (const ref of queueRefs)
      env[queueUrlVariable(ref)] = `http://localhost:9324/000000000000/${queueNameOf(ref)}`;
    const { queues } = loadConfig(env);
    expect(Object.keys(queues).sort()).toEqual([...queueRefs].sort());
    expect(queues.mediaCleanup).toBe('http://localhost:9324/000000000000/media-cleanup');
    expect(queues.webhookDeliveriesDlq).toMatch(/webhook-deliveries-dlq$/);
  });
});
