import type { RouteSpec } from '#api/route-spec.ts';
import { type AuditEntry, auditActor } from '#core/audit.ts';
import { logger } from '#shared/logger.ts';
import type { EdgePorts } from './ports.ts';
import { callState, type HttpMiddyRequest, middleware } from './types.ts';

/**
 * The audit log: a successful call of a route that names an audit action is logged with its target's
 * id (the first path parameter, or the response body's `bodyId` for creations); every denied attempt
 * (401/403) is logged under the route's action or its method and path. A failed write is logged with the
 * whole entry and never fails the call.
 */
export function audit(route: RouteSpec, ports: Pick<EdgePorts, 'appendAudit'>) {
  const append = async (entry: AuditEntry) => {
    try {
      await ports.appendAudit(entry);
    } catch (error) {
      logger.error('audit log write failed', { error, audit: entry });
    }
  };
  const after = async (request: HttpMiddyRequest) => {
    const state = callState(request);
    const answer = state.answer;
    if (!route.audit || !answer || answer.status >= 300) return;
    const body = 'body' in answer ? (answer.body as Record<string, unknown> | undefined) : undefined;
    const targetId = route.audit.bodyId
      ? body?.[route.audit.bodyId]
      : Object.values(request.event.pathParameters ?? {})[0];
    await append({
      ...auditActor(state.principal),
      action: route.audit.action,
      outcome: 'success',
      status: answer.status,
      targetType: route.audit.target,
      targetId: typeof targetId === 'string' ? targetId : null,
      requestId: state.requestId,
      sourceIp: state.sourceIp,
      detail: null,
    });
  };
  const onError = async (request: HttpMiddyRequest) => {
    const status = request.response?.statusCode;
    if (status !== 401 && status !== 403) return;
    const state = callState(request);
    await append({
      ...auditActor(state.principal ?? null),
      action: route.audit?.action ?? `${route.method} ${route.path}`,
      outcome: 'denied',
      status,
      targetType: route.audit?.target ?? null,
      targetId: Object.values(request.event.pathParameters ?? {})[0]?.slice(0, 256) ?? null,
      requestId: state.requestId,
      sourceIp: state.sourceIp,
      detail: request.error?.message.slice(0, 500) ?? null,
    });
  };
  return middleware({ after, onError });
}
