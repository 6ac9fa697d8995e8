import { uploadDeps } from '#adapters/uploads.ts';
import { createUpload } from '#core/uploads.ts';
import { httpHandler } from '#http/compose.ts';
import { edgePorts } from './edge-ports.ts';
import { routes } from './routes.ts';

export const handler = httpHandler(routes.createUpload, edgePorts, async ({ principal, body }) => ({
  status: 201,
  body: await createUpload(await uploadDeps(), principal, body),
}));
