import { RateLimitedError } from '#core/errors.ts';
import type { Principal } from '#core/principal.ts';
import { type Budget, type RateDecision, rateLimitHeaders, SPENT_ON_SUCCESS } from '#core/rate-limit.ts';
import { config } from '#shared/config.ts';
import { logger } from '#shared/logger.ts';
import type { EdgePorts } from './ports.ts';
import { type CallState, callState, type HttpMiddyRequest, middleware } from './types.ts';

/**
 * Takes a token from the caller's bucket for the route's budget; 429 with Retry-After when empty. The
 * bucket is the owning user's, whichever credential (token or any of their API keys) is used; the
 * client IP's when unauthenticated. Should the state table be unreachable the call goes through (logged):
 * the gateway's throttling and the WAF still stand. RateLimit-* headers go on every answer, and a budget
 * spent on success only is refunded when the call does not succeed.
 */
export function rateLimit(budget: Budget, ports: Pick<EdgePorts, 'rateLimiter'>) {
  const take = async (state: CallState, principal: Principal | null) => {
    const { rateLimits } = config();
    if (!rateLimits.enabled) return;
    const caller = principal ? `user:${principal.userId}` : `ip:${state.sourceIp || 'unknown'}`;
    let decision: RateDecision;
    try {
      decision = await ports.rateLimiter().take(budget, caller, rateLimits[budget]);
    } catch (error) {
      logger.error('rate limiter unavailable; request let through', { error, budget });
      return;
    }
    state.rateHeaders = rateLimitHeaders(decision);
    if (decision.allowed && principal && SPENT_ON_SUCCESS.has(budget)) {
      state.taken = { budget, caller, policy: rateLimits[budget] };
    }
    if (!decision.allowed) {
      throw new RateLimitedError(
        `Too many ${budget} requests; try again in ${decision.retryAfterSeconds} s`,
        decision.retryAfterSeconds,
        state.rateHeaders,
      );
    }
  };

  /** Gives the call's token back (once); a failed refund is logged and costs the caller one token. */
  const refund = async (state: CallState) => {
    const taken = state.taken;
    state.taken = undefined;
    if (!taken) return;
    try {
      state.rateHeaders = rateLimitHeaders(
        await ports.rateLimiter().refund(taken.budget, taken.caller, taken.policy),
      );
    } catch (error) {
      logger.error('rate limit refund failed', { error, budget: taken.budget });
    }
  };

  const before = (request: HttpMiddyRequest) => {
    const state = callState(request);
    return take(state, state.principal);
  };
  const after = async (request: HttpMiddyRequest) => {
    const state = callState(request);
    if (!request.response) return;
    if (state.taken && request.response.statusCode >= 300) await refund(state);
    request.response.headers = { ...state.rateHeaders, ...request.response.headers };
  };
  return {
    ...middleware({ before, after, onError: after }),
    /** Failed authentication: charged to the client IP, never refunded. */
    chargeRefused: (request: HttpMiddyRequest) => take(callState(request), null),
  };
}
