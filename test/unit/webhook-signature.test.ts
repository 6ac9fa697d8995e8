import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { newWebhookSecret, signedHeaders } from '#core/webhook-signature.ts';
import { attemptMessage, nextAttemptAfter, signingSecrets } from '#core/webhooks.ts';

describe('Standard Webhooks signatures', () => {
  it('verify with the standardwebhooks package, for any JSON body', () => {
    fc.assert(
      fc.property(fc.json(), fc.uuid(), (body, id) => {
        const secret = newWebhookSecret();
        const headers = signedHeaders([secret], id, Math.floor(Date.now() / 1000), body);
        expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
        expect(() => new Webhook(newWebhookSecret()).verify(body, headers)).toThrow();
        expect(() => new Webhook(secret).verify(`${body} `, headers)).toThrow();
      }),
      { numRuns: 50 },
    );
  });

  it('two secrets sign side by side and each verifies alone', () => {
    const [a, b] = [newWebhookSecret(), newWebhookSecret()];
    const body = JSON.stringify({ id: 'e', type: 'webhook.test' });
    const headers = signedHeaders([a, b], 'e', Math.floor(Date.now() / 1000), body);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    new Webhook(a).verify(body, headers);
    new Webhook(b).verify(body, headers);
  });

  it('the previous secret signs only during its overlap', () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const endpoint = {
      secret: 'whsec_new',
      previousSecret: 'whsec_old',
      previousSecretUntil: new Date('2030-01-02'),
    };
    expect(signingSecrets(endpoint, now)).toEqual(['whsec_new', 'whsec_old']);
    expect(signingSecrets(endpoint, new Date('2030-01-03'))).toEqual(['whsec_new']);
  });
});

describe('the retry schedule', () => {
  const schedule = [5, 300, 1800, 7200, 18000, 36000];
  const at = new Date('2030-01-01T00:00:00Z');

  it('waits each entry in turn, and ends after one attempt more than it has entries', () => {
    const waits = [1, 2, 3, 4, 5, 6].map(
      (attempt) => (nextAttemptAfter(attempt, at, schedule)!.getTime() - at.getTime()) / 1000,
    );
    expect(waits).toEqual(schedule);
    expect(nextAttemptAfter(7, at, schedule)).toBeNull();
  });

  it('an attempt due later is delayed (at most 15 min), signed for when it is due, final on the last', () => {
    const due = {
      id: 'd',
      endpointId: 'e',
      eventId: 'evt',
      payload: '{}',
      attempts: 6,
      nextAttemptAt: new Date(at.getTime() + 3600_000),
      url: 'https://example.com/',
      secrets: [newWebhookSecret()],
    };
    const { message, delaySeconds } = attemptMessage(due, schedule, at);
    expect(delaySeconds).toBe(900);
    expect(message).toMatchObject({ attempt: 7, final: true });
    expect(Number(message.headers['webhook-timestamp'])).toBe(at.getTime() / 1000 + 900);
    expect(message.headers['webhook-id']).toBe('evt');
    expect(JSON.stringify(message)).not.toContain(due.secrets[0]!.slice(6));
  });
});
