import { auditLog } from '#adapters/security.ts';
import { listAudit } from '#core/audit.ts';
import { httpHandler } from '#http/compose.ts';
import { edgePorts } from './edge-ports.ts';
import * as routes from './routes.ts';

export const handler = httpHandler(routes.listAudit, edgePorts, async ({ principal, query }) => ({
  status: 200,
  body: await listAudit(await auditLog(), principal, query),
}));
