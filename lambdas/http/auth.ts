import { UnauthorizedError } from '#core/errors.ts';
import type { EdgePorts } from './ports.ts';
import { callState, type HttpMiddyRequest, middleware } from './types.ts';

/**
 * Authenticates the caller (bearer token or API key) into the call state and mirrors them into the user
 * store. `required` routes refuse anonymous callers with 401. `onRefused` runs before a 401 leaves (the
 * rate limiter charges the client IP there, so keys and tokens cannot be brute-forced).
 */
export function auth(
  mode: 'optional' | 'required',
  ports: Pick<EdgePorts, 'authenticate' | 'rememberUser'>,
  onRefused?: (request: HttpMiddyRequest) => Promise<void>,
) {
  const before = async (request: HttpMiddyRequest) => {
    const state = callState(request);
    try {
      const principal = await ports.authenticate(state.headers);
      if (mode === 'required' && !principal) {
        throw new UnauthorizedError('This route needs a bearer token or an API key', null);
      }
      state.principal = principal;
    } catch (error) {
      if (error instanceof UnauthorizedError) await onRefused?.(request);
      throw error;
    }
    if (state.principal) await ports.rememberUser(state.principal);
  };
  return middleware({ before });
}
