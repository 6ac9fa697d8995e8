import type { RouteSpec } from './route-spec.ts';
import {
  ApiKeyParams,
  CaptionParams,
  CompleteUploadRequest,
  CreateApiKeyRequest,
  CreateCaptionRequest,
  CreateUploadRequest,
  CreateWebhookRequest,
  DeliveryParams,
  DocsAssetParams,
  ListAuditQuery,
  ListDeliveriesQuery,
  ListVideosQuery,
  ListWebhooksQuery,
  SignPartsRequest,
  UpdateWebhookRequest,
  UploadParams,
  VideoParams,
  VideoUpdate,
  WebhookParams,
} from './schemas.ts';

// Answers several rows share. Rows name them (`404: uploadNotFound`) rather than spread them: a spread
// would count as a side effect and keep every row in every bundle.
const uploadNotFound = { description: 'No such upload, not yours, or its video was deleted' };
const webhookNotFound = { description: 'No such webhook, or not yours' };
const notWebhookManager = { description: 'Not a creator or admin, or the credential lacks the scope' };

export const health = {
  method: 'GET',
  path: '/v1/health',
  entry: 'health',
  auth: 'none',
  tag: 'Health',
  summary: 'Checks the database and storage for real; 503 names the failing check.',
  responses: {
    200: { description: 'Every dependency answered', schema: 'Health' },
    503: { description: 'A dependency is down', schema: 'Health' },
  },
} satisfies RouteSpec;

export const openapi = {
  method: 'GET',
  path: '/v1/openapi.json',
  entry: 'openapi',
  auth: 'none',
  tag: 'Docs',
  summary: 'This API as an OpenAPI 3.1 document, generated from the schemas that validate requests.',
  responses: { 200: { description: 'The OpenAPI document', schema: 'OpenApiDocumentBody' } },
} satisfies RouteSpec;

export const docs = {
  method: 'GET',
  path: '/docs',
  entry: 'docs',
  auth: 'none',
  tag: 'Docs',
  summary: 'Swagger UI for this API (also at /docs/).',
  responses: { 200: { description: 'Swagger UI', contentType: 'text/html', schema: 'DocsPage' } },
} satisfies RouteSpec;

export const docsAsset = {
  method: 'GET',
  path: '/docs/{asset}',
  entry: 'docs',
  auth: 'none',
  tag: 'Docs',
  summary: "Swagger UI's script and stylesheet.",
  request: { params: DocsAssetParams },
  responses: {
    200: {
      description: 'The asset: swagger-ui.css, swagger-ui-bundle.js or init.js',
      contentType: ['text/css', 'text/javascript'],
      schema: 'DocsAssetBody',
    },
    404: { description: 'No such asset' },
  },
} satisfies RouteSpec;

export const me = {
  method: 'GET',
  path: '/v1/me',
  entry: 'me',
  auth: 'required',
  tag: 'Identity',
  summary:
    'The caller: id, username, roles, the API scopes it may use, and its storage quota (bytes used, limit or null when unlimited).',
  responses: { 200: { description: 'The caller', schema: 'Me' } },
} satisfies RouteSpec;

export const listVideos = {
  method: 'GET',
  path: '/v1/videos',
  entry: 'videos-list',
  auth: 'optional',
  tag: 'Videos',
  summary:
    'Videos, newest first (keyset pages). Public ready videos by default; owner=me lists your own in every status.',
  request: { query: ListVideosQuery },
  responses: { 200: { description: 'A page of videos', schema: 'VideoPage' } },
} satisfies RouteSpec;

export const getVideo = {
  method: 'GET',
  path: '/v1/videos/{videoId}',
  entry: 'videos-get',
  auth: 'optional',
  tag: 'Videos',
  summary:
    'One video. Public and unlisted videos are readable by anyone once ready; private ones by their owner and admins; 404 otherwise.',
  request: { params: VideoParams },
  responses: {
    200: { description: 'The video', schema: 'Video' },
    404: { description: 'No such video, or not visible to you' },
  },
} satisfies RouteSpec;

export const updateVideo = {
  method: 'PATCH',
  path: '/v1/videos/{videoId}',
  entry: 'videos-update',
  auth: 'required',
  audit: { action: 'video.update', target: 'video' },
  tag: 'Videos',
  summary:
    'Change the title, description, visibility, downloads or poster time (owner or admin). Any other field is a 400.',
  request: { params: VideoParams, body: VideoUpdate },
  responses: {
    200: { description: 'The updated video', schema: 'Video' },
    403: { description: 'You can see this video but may not change it' },
    404: { description: 'No such video, or not visible to you' },
    409: { description: 'posterTimeSeconds given before the video is ready' },
  },
} satisfies RouteSpec;

export const deleteVideo = {
  method: 'DELETE',
  path: '/v1/videos/{videoId}',
  entry: 'videos-delete',
  auth: 'required',
  audit: { action: 'video.delete', target: 'video' },
  tag: 'Videos',
  summary:
    'Delete a video (owner or admin): gone from every view at once; an upload still open is aborted first (its part URLs stop working, the upload answers 404); its media are removed asynchronously.',
  request: { params: VideoParams },
  responses: {
    204: { description: 'Deleted' },
    403: { description: 'You can see this video but may not delete it' },
    404: { description: 'No such video, or not visible to you' },
  },
} satisfies RouteSpec;

export const createCaption = {
  method: 'POST',
  path: '/v1/videos/{videoId}/captions',
  entry: 'captions-create',
  auth: 'required',
  audit: { action: 'caption.create', target: 'video' },
  tag: 'Captions',
  summary:
    'Add a caption track (owner or admin): returns a PUT URL for the WebVTT or SRT file, which goes straight to storage; the track is then processing until ready or failed.',
  request: { params: VideoParams, body: CreateCaptionRequest },
  responses: {
    201: { description: 'Track created; PUT the file to upload.url', schema: 'CaptionCreated' },
    403: { description: 'You can see this video but may not change it' },
    404: { description: 'No such video, or not visible to you' },
    409: { description: 'The video is not ready yet, or already has 20 tracks' },
  },
} satisfies RouteSpec;

export const listCaptions = {
  method: 'GET',
  path: '/v1/videos/{videoId}/captions',
  entry: 'captions-list',
  auth: 'optional',
  tag: 'Captions',
  summary:
    "A video's caption tracks: every track with its status for the owner and admins, the ready ones for anyone else who can see the video.",
  request: { params: VideoParams },
  responses: {
    200: { description: 'The tracks', schema: 'CaptionList' },
    404: { description: 'No such video, or not visible to you' },
  },
} satisfies RouteSpec;

export const deleteCaption = {
  method: 'DELETE',
  path: '/v1/videos/{videoId}/captions/{captionId}',
  entry: 'captions-delete',
  auth: 'required',
  audit: { action: 'caption.delete', target: 'video' },
  tag: 'Captions',
  summary: 'Delete a caption track (owner or admin); the master playlist stops listing it within seconds.',
  request: { params: CaptionParams },
  responses: {
    204: { description: 'Deleted' },
    403: { description: 'You can see this video but may not change it' },
    404: { description: 'No such video or track, or not visible to you' },
  },
} satisfies RouteSpec;

export const createUpload = {
  method: 'POST',
  path: '/v1/uploads',
  entry: 'uploads-create',
  auth: 'required',
  audit: { action: 'upload.create', target: 'upload', bodyId: 'uploadId' },
  rateLimit: 'upload',
  tag: 'Uploads',
  summary:
    'Start a direct-to-storage multipart upload (creator or admin, scope uploads:write). The video exists from now on, status uploading.',
  request: { body: CreateUploadRequest },
  responses: {
    201: {
      description: 'Upload started; Location names the upload',
      schema: 'UploadCreated',
      headers: ['Location'],
    },
    403: { description: 'Not a creator, or the credential lacks uploads:write' },
    413: {
      description:
        'size is over the configured maximum (/problems/payload-too-large), or the upload would take you over your storage quota (/problems/storage-quota-exceeded; the detail names the quota, your usage and the limit)',
    },
    415: { description: 'contentType is not a video type we accept' },
  },
} satisfies RouteSpec;

export const signParts = {
  method: 'POST',
  path: '/v1/uploads/{uploadId}/parts',
  entry: 'uploads-sign-parts',
  auth: 'required',
  tag: 'Uploads',
  summary:
    'Presign PUT URLs for up to 100 parts. Each URL works for that part of that upload only, at its exact size, and expires.',
  request: { params: UploadParams, body: SignPartsRequest },
  responses: {
    200: { description: 'One URL per part', schema: 'SignedParts' },
    404: uploadNotFound,
    409: { description: 'The upload is complete, aborted or expired' },
  },
} satisfies RouteSpec;

export const getUpload = {
  method: 'GET',
  path: '/v1/uploads/{uploadId}',
  entry: 'uploads-get',
  auth: 'required',
  tag: 'Uploads',
  summary:
    'Server-side progress, read from storage: which parts are there, so a client can resume after a crash.',
  request: { params: UploadParams },
  responses: { 200: { description: 'The upload', schema: 'Upload' }, 404: uploadNotFound },
} satisfies RouteSpec;

export const completeUpload = {
  method: 'POST',
  path: '/v1/uploads/{uploadId}/complete',
  entry: 'uploads-complete',
  auth: 'required',
  audit: { action: 'upload.complete', target: 'upload' },
  tag: 'Uploads',
  summary:
    'Complete the upload; the video moves to processing. Repeating it answers the same 202. Racing an abort or a video delete, it answers 404 or 409.',
  request: { params: UploadParams, body: CompleteUploadRequest },
  responses: {
    202: { description: 'Accepted for processing', schema: 'UploadAccepted' },
    404: uploadNotFound,
    409: {
      description:
        'Parts are missing (listed) or their sizes do not add up; or the upload was aborted or expired',
    },
  },
} satisfies RouteSpec;

export const abortUpload = {
  method: 'DELETE',
  path: '/v1/uploads/{uploadId}',
  entry: 'uploads-abort',
  auth: 'required',
  audit: { action: 'upload.abort', target: 'upload' },
  tag: 'Uploads',
  summary: 'Abort the upload: storage drops the parts and the video is gone.',
  request: { params: UploadParams },
  responses: {
    204: { description: 'Aborted' },
    404: uploadNotFound,
    409: { description: 'Already completed' },
  },
} satisfies RouteSpec;

export const createApiKey = {
  method: 'POST',
  path: '/v1/api-keys',
  entry: 'api-keys-create',
  auth: 'required',
  audit: { action: 'api-key.create', target: 'api-key', bodyId: 'id' },
  tag: 'API keys',
  summary:
    'Create an API key for server-to-server use (creator or admin, with a user token). The key is shown once; send it as X-Api-Key.',
  request: { body: CreateApiKeyRequest },
  responses: {
    201: { description: 'The key, shown this once', schema: 'ApiKeyCreated' },
    403: { description: 'Not allowed to hold keys, a scope you do not have, or called with an API key' },
    409: { description: 'Too many active keys' },
  },
} satisfies RouteSpec;

export const listApiKeys = {
  method: 'GET',
  path: '/v1/api-keys',
  entry: 'api-keys-list',
  auth: 'required',
  tag: 'API keys',
  summary: 'Your active API keys (never their secrets).',
  responses: {
    200: { description: 'Your keys', schema: 'ApiKeyList' },
    403: { description: 'Not allowed to hold keys, or called with an API key' },
  },
} satisfies RouteSpec;

export const revokeApiKey = {
  method: 'DELETE',
  path: '/v1/api-keys/{keyId}',
  entry: 'api-keys-delete',
  auth: 'required',
  audit: { action: 'api-key.revoke', target: 'api-key' },
  tag: 'API keys',
  summary:
    "Revoke an API key (its owner or an admin); it stops working within API_KEY_CACHE_SECONDS (default 5 s), the time a function container may keep a valid key's lookup.",
  request: { params: ApiKeyParams },
  responses: {
    204: { description: 'Revoked' },
    403: { description: 'Called with an API key' },
    404: { description: 'No such active key, or not yours' },
  },
} satisfies RouteSpec;

export const listAudit = {
  method: 'GET',
  path: '/v1/audit',
  entry: 'audit-list',
  auth: 'required',
  tag: 'Audit',
  summary:
    'The audit log, newest first (admins only): every state change and every denied attempt, with actor, action, target, request id, source IP and time.',
  request: { query: ListAuditQuery },
  responses: {
    200: { description: 'A page of audit entries', schema: 'AuditPage' },
    403: { description: 'Not an admin' },
  },
} satisfies RouteSpec;

export const createWebhook = {
  method: 'POST',
  path: '/v1/webhooks',
  entry: 'webhooks-create',
  auth: 'required',
  audit: { action: 'webhook.create', target: 'webhook', bodyId: 'id' },
  tag: 'Webhooks',
  summary:
    'Register a webhook endpoint (creator: events of your videos; admin: of every video). The signing secret is shown this once. A URL the SSRF rules refuse is a 400 naming the rule.',
  request: { body: CreateWebhookRequest },
  responses: {
    201: {
      description: 'The endpoint, with its secret; Location names it',
      schema: 'WebhookCreated',
      headers: ['Location'],
    },
    403: notWebhookManager,
    409: { description: 'Too many endpoints' },
  },
} satisfies RouteSpec;

export const listWebhooks = {
  method: 'GET',
  path: '/v1/webhooks',
  entry: 'webhooks-list',
  auth: 'required',
  tag: 'Webhooks',
  summary: 'Your webhook endpoints, newest first (never their secrets).',
  request: { query: ListWebhooksQuery },
  responses: { 200: { description: 'A page of endpoints', schema: 'WebhookPage' }, 403: notWebhookManager },
} satisfies RouteSpec;

export const getWebhook = {
  method: 'GET',
  path: '/v1/webhooks/{webhookId}',
  entry: 'webhooks-get',
  auth: 'required',
  tag: 'Webhooks',
  summary: 'One of your webhook endpoints.',
  request: { params: WebhookParams },
  responses: {
    200: { description: 'The endpoint', schema: 'Webhook' },
    403: notWebhookManager,
    404: webhookNotFound,
  },
} satisfies RouteSpec;

export const updateWebhook = {
  method: 'PATCH',
  path: '/v1/webhooks/{webhookId}',
  entry: 'webhooks-update',
  auth: 'required',
  audit: { action: 'webhook.update', target: 'webhook' },
  tag: 'Webhooks',
  summary: 'Change the URL, description or event types, or enable or disable the endpoint.',
  request: { params: WebhookParams, body: UpdateWebhookRequest },
  responses: {
    200: { description: 'The updated endpoint', schema: 'Webhook' },
    403: notWebhookManager,
    404: webhookNotFound,
  },
} satisfies RouteSpec;

export const deleteWebhook = {
  method: 'DELETE',
  path: '/v1/webhooks/{webhookId}',
  entry: 'webhooks-delete',
  auth: 'required',
  audit: { action: 'webhook.delete', target: 'webhook' },
  tag: 'Webhooks',
  summary: 'Delete the endpoint and its deliveries; nothing more is sent to it.',
  request: { params: WebhookParams },
  responses: { 204: { description: 'Deleted' }, 403: notWebhookManager, 404: webhookNotFound },
} satisfies RouteSpec;

export const rotateWebhookSecret = {
  method: 'POST',
  path: '/v1/webhooks/{webhookId}/rotate-secret',
  entry: 'webhooks-rotate-secret',
  auth: 'required',
  audit: { action: 'webhook.rotate-secret', target: 'webhook' },
  tag: 'Webhooks',
  summary:
    'A new signing secret, shown this once. For 24 h deliveries are signed with both (space-separated signatures), so the old one keeps verifying.',
  request: { params: WebhookParams },
  responses: {
    200: { description: 'The new secret', schema: 'WebhookSecret' },
    403: notWebhookManager,
    404: webhookNotFound,
  },
} satisfies RouteSpec;

export const testWebhook = {
  method: 'POST',
  path: '/v1/webhooks/{webhookId}/test',
  entry: 'webhooks-test',
  auth: 'required',
  audit: { action: 'webhook.test', target: 'webhook' },
  tag: 'Webhooks',
  summary: 'Send a webhook.test event to this endpoint (whatever its event types), delivered like any other.',
  request: { params: WebhookParams },
  responses: {
    202: { description: 'Queued for delivery', schema: 'WebhookTestAccepted' },
    403: notWebhookManager,
    404: webhookNotFound,
    409: { description: 'The endpoint is disabled' },
  },
} satisfies RouteSpec;

export const listWebhookDeliveries = {
  method: 'GET',
  path: '/v1/webhooks/{webhookId}/deliveries',
  entry: 'webhooks-deliveries-list',
  auth: 'required',
  tag: 'Webhooks',
  summary:
    "The endpoint's deliveries, newest first: status, attempts, last status code, latency, a short excerpt of the answer, the error, and when the next attempt is due.",
  request: { params: WebhookParams, query: ListDeliveriesQuery },
  responses: {
    200: { description: 'A page of deliveries', schema: 'DeliveryPage' },
    403: notWebhookManager,
    404: webhookNotFound,
  },
} satisfies RouteSpec;

export const retryWebhookDelivery = {
  method: 'POST',
  path: '/v1/webhooks/{webhookId}/deliveries/{deliveryId}/retry',
  entry: 'webhooks-deliveries-retry',
  auth: 'required',
  audit: { action: 'webhook.redeliver', target: 'webhook' },
  tag: 'Webhooks',
  summary: 'Deliver again now, with the same webhook-id (the same event), whatever the delivery status.',
  request: { params: DeliveryParams },
  responses: {
    202: { description: 'Queued for delivery' },
    403: notWebhookManager,
    404: { description: 'No such webhook or delivery, or not yours' },
    409: { description: 'The endpoint is disabled' },
  },
} satisfies RouteSpec;

/**
 * The route table: every public HTTP route of VideoCloud, one exported row each. The CDK API, the local
 * gateway and the OpenAPI document are built from this object; a handler imports this module as a
 * namespace and takes its own row (`routes.getVideo`), so its bundle keeps that row and its schemas
 * only (rows are object literals and the schemas are declared side-effect free in schemas.ts; a schema
 * written here in a row would be built in every bundle).
 */
export const routes = {
  health,
  openapi,
  docs,
  docsAsset,
  me,
  listVideos,
  getVideo,
  updateVideo,
  deleteVideo,
  createCaption,
  listCaptions,
  deleteCaption,
  createUpload,
  signParts,
  getUpload,
  completeUpload,
  abortUpload,
  createApiKey,
  listApiKeys,
  revokeApiKey,
  listAudit,
  createWebhook,
  listWebhooks,
  getWebhook,
  updateWebhook,
  deleteWebhook,
  rotateWebhookSecret,
  testWebhook,
  listWebhookDeliveries,
  retryWebhookDelivery,
} satisfies Record<string, RouteSpec>;

export type RouteId = keyof typeof routes;
/** Every row with its id, in table order (`routes` in this module's namespace would be alphabetical). */
export const routeList: Array<RouteSpec & { id: string }> = /* @__PURE__ */ listRoutes();

function listRoutes() {
  return Object.entries(routes).map(([id, spec]) => ({ id, ...spec }));
}
