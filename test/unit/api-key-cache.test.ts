import { describe, expect, it } from '@jest/globals';
import { cachedKey, cacheKey, forgetKey, forgetOwner } from '#adapters/api-key-cache.ts';
import type { Principal } from '#core/principal.ts';

const principal = (userId: string, apiKeyId: string): Principal => ({
  userId,
  username: userId,
  roles: ['creator'],
  scopes: ['videos:read'],
  via: 'api-key',
  apiKeyId,
});

describe('API-key cache', () => {
  it('keeps a valid key for its window only', () => {
    cacheKey('vck_a', principal('u1', 'k1'), 5, 1_000);
    expect(cachedKey('vck_a', 1_000)?.apiKeyId).toBe('k1');
    expect(cachedKey('vck_a', 5_999)?.apiKeyId).toBe('k1');
    expect(cachedKey('vck_a', 6_000)).toBeUndefined();
    expect(cachedKey('vck_a', 1_000)).toBeUndefined(); // an expired entry is gone
  });

  it('keeps nothing with a window of 0, and never answers for another key', () => {
    cacheKey('vck_b', principal('u1', 'k2'), 0, 1_000);
    expect(cachedKey('vck_b', 1_000)).toBeUndefined();
    cacheKey('vck_c', principal('u1', 'k3'), 5, 1_000);
    expect(cachedKey('vck_c2', 1_000)).toBeUndefined();
  });

  it('forgets a revoked key, and every key of an owner whose roles changed, at once', () => {
    cacheKey('vck_d', principal('u2', 'k4'), 5, 1_000);
    cacheKey('vck_e', principal('u2', 'k5'), 5, 1_000);
    cacheKey('vck_f', principal('u3', 'k6'), 5, 1_000);
    forgetKey('k4');
    expect(cachedKey('vck_d', 1_000)).toBeUndefined();
    expect(cachedKey('vck_e', 1_000)?.apiKeyId).toBe('k5');
    forgetOwner('u2');
    expect(cachedKey('vck_e', 1_000)).toBeUndefined();
    expect(cachedKey('vck_f', 1_000)?.apiKeyId).toBe('k6');
  });
});
