import * as z from 'zod';
import type { RouteSpec } from './route-spec.ts';
import {
  ApiKeyCreated,
  ApiKeyList,
  ApiKeyParams,
  AuditPage,
  CaptionCreated,
  CaptionList,
  CaptionParams,
  CompleteUploadRequest,
  CreateApiKeyRequest,
  CreateCaptionRequest,
  CreateUploadRequest,
  Health,
  ListAuditQuery,
  ListVideosQuery,
  Me,
  SignedParts,
  SignPartsRequest,
  Upload,
  UploadAccepted,
  UploadCreated,
  UploadParams,
  Video,
  VideoPage,
  VideoParams,
  VideoUpdate,
} from './schemas.ts';

const uploadNotFound = { 404: { description: 'No such upload, not yours, or its video was deleted' } };

/**
 * The route table: every public HTTP route of VideoCloud. The CDK API and the local gateway are both
 * built from this object; handlers take their validation schemas from their own row.
 */
export const routes = {
  health: {
    method: 'GET',
    path: '/v1/health',
    entry: 'health',
    auth: 'none',
    tag: 'Health',
    summary: 'Checks the database and storage for real; 503 names the failing check.',
    responses: {
      200: { description: 'Every dependency answered', schema: Health },
      503: { description: 'A dependency is down', schema: Health },
    },
  },
  openapi: {
    method: 'GET',
    path: '/v1/openapi.json',
    entry: 'openapi',
    auth: 'none',
    tag: 'Docs',
    summary: 'This API as an OpenAPI 3.1 document, generated from the schemas that validate requests.',
    responses: { 200: { description: 'The OpenAPI document', schema: z.record(z.string(), z.unknown()) } },
  },
  docs: {
    method: 'GET',
    path: '/docs',
    entry: 'docs',
    auth: 'none',
    tag: 'Docs',
    summary: 'Swagger UI for this API.',
    responses: { 200: { description: 'Swagger UI', contentType: 'text/html' } },
  },
  docsAsset: {
    method: 'GET',
    path: '/docs/{asset}',
    entry: 'docs',
    auth: 'none',
    tag: 'Docs',
    summary: "Swagger UI's script and stylesheet.",
    request: { params: z.object({ asset: z.string() }) },
    responses: {
      200: { description: 'The asset', contentType: 'application/octet-stream' },
      404: { description: 'No such asset' },
    },
  },
  me: {
    method: 'GET',
    path: '/v1/me',
    entry: 'me',
    auth: 'required',
    tag: 'Identity',
    summary:
      'The caller: id, username, roles, the API scopes it may use, and its storage quota (bytes used, limit or null when unlimited).',
    responses: { 200: { description: 'The caller', schema: Me } },
  },
  listVideos: {
    method: 'GET',
    path: '/v1/videos',
    entry: 'videos-list',
    auth: 'optional',
    tag: 'Videos',
    summary:
      'Videos, newest first (keyset pages). Public ready videos by default; owner=me lists your own in every status.',
    request: { query: ListVideosQuery },
    responses: { 200: { description: 'A page of videos', schema: VideoPage } },
  },
  getVideo: {
    method: 'GET',
    path: '/v1/videos/{videoId}',
    entry: 'videos-get',
    auth: 'optional',
    tag: 'Videos',
    summary:
      'One video. Public and unlisted videos are readable by anyone once ready; private ones by their owner and admins; 404 otherwise.',
    request: { params: VideoParams },
    responses: {
      200: { description: 'The video', schema: Video },
      404: { description: 'No such video, or not visible to you' },
    },
  },
  updateVideo: {
    method: 'PATCH',
    path: '/v1/videos/{videoId}',
    entry: 'videos-update',
    auth: 'required',
    audit: { action: 'video.update', target: 'video' },
    tag: 'Videos',
    summary: 'Change the title, description or visibility (owner or admin). Any other field is a 400.',
    request: { params: VideoParams, body: VideoUpdate },
    responses: {
      200: { description: 'The updated video', schema: Video },
      403: { description: 'You can see this video but may not change it' },
      404: { description: 'No such video, or not visible to you' },
    },
  },
  deleteVideo: {
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
  },
  createCaption: {
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
      201: { description: 'Track created; PUT the file to upload.url', schema: CaptionCreated },
      403: { description: 'You can see this video but may not change it' },
      404: { description: 'No such video, or not visible to you' },
      409: { description: 'The video is not ready yet, or already has 20 tracks' },
    },
  },
  listCaptions: {
    method: 'GET',
    path: '/v1/videos/{videoId}/captions',
    entry: 'captions-list',
    auth: 'optional',
    tag: 'Captions',
    summary:
      "A video's caption tracks: every track with its status for the owner and admins, the ready ones for anyone else who can see the video.",
    request: { params: VideoParams },
    responses: {
      200: { description: 'The tracks', schema: CaptionList },
      404: { description: 'No such video, or not visible to you' },
    },
  },
  deleteCaption: {
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
  },
  createUpload: {
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
      201: { description: 'Upload started', schema: UploadCreated },
      403: { description: 'Not a creator, or the credential lacks uploads:write' },
      413: {
        description:
          'size is over the configured maximum (/problems/payload-too-large), or the upload would take you over your storage quota (/problems/storage-quota-exceeded; the detail names the quota, your usage and the limit)',
      },
      415: { description: 'contentType is not a video type we accept' },
    },
  },
  signParts: {
    method: 'POST',
    path: '/v1/uploads/{uploadId}/parts',
    entry: 'uploads-sign-parts',
    auth: 'required',
    tag: 'Uploads',
    summary:
      'Presign PUT URLs for up to 100 parts. Each URL works for that part of that upload only, at its exact size, and expires.',
    request: { params: UploadParams, body: SignPartsRequest },
    responses: {
      200: { description: 'One URL per part', schema: SignedParts },
      ...uploadNotFound,
      409: { description: 'The upload is complete, aborted or expired' },
    },
  },
  getUpload: {
    method: 'GET',
    path: '/v1/uploads/{uploadId}',
    entry: 'uploads-get',
    auth: 'required',
    tag: 'Uploads',
    summary:
      'Server-side progress, read from storage: which parts are there, so a client can resume after a crash.',
    request: { params: UploadParams },
    responses: { 200: { description: 'The upload', schema: Upload }, ...uploadNotFound },
  },
  completeUpload: {
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
      202: { description: 'Accepted for processing', schema: UploadAccepted },
      ...uploadNotFound,
      409: {
        description:
          'Parts are missing (listed) or their sizes do not add up; or the upload was aborted or expired',
      },
    },
  },
  abortUpload: {
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
      ...uploadNotFound,
      409: { description: 'Already completed' },
    },
  },
  createApiKey: {
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
      201: { description: 'The key, shown this once', schema: ApiKeyCreated },
      403: { description: 'Not allowed to hold keys, a scope you do not have, or called with an API key' },
      409: { description: 'Too many active keys' },
    },
  },
  listApiKeys: {
    method: 'GET',
    path: '/v1/api-keys',
    entry: 'api-keys-list',
    auth: 'required',
    tag: 'API keys',
    summary: 'Your active API keys (never their secrets).',
    responses: {
      200: { description: 'Your keys', schema: ApiKeyList },
      403: { description: 'Not allowed to hold keys, or called with an API key' },
    },
  },
  revokeApiKey: {
    method: 'DELETE',
    path: '/v1/api-keys/{keyId}',
    entry: 'api-keys-delete',
    auth: 'required',
    audit: { action: 'api-key.revoke', target: 'api-key' },
    tag: 'API keys',
    summary: 'Revoke an API key (its owner or an admin); it stops working at once.',
    request: { params: ApiKeyParams },
    responses: {
      204: { description: 'Revoked' },
      403: { description: 'Called with an API key' },
      404: { description: 'No such active key, or not yours' },
    },
  },
  listAudit: {
    method: 'GET',
    path: '/v1/audit',
    entry: 'audit-list',
    auth: 'required',
    tag: 'Audit',
    summary:
      'The audit log, newest first (admins only): every state change and every denied attempt, with actor, action, target, request id, source IP and time.',
    request: { query: ListAuditQuery },
    responses: {
      200: { description: 'A page of audit entries', schema: AuditPage },
      403: { description: 'Not an admin' },
    },
  },
} satisfies Record<string, RouteSpec>;

export type RouteId = keyof typeof routes;
export const routeList: Array<RouteSpec & { id: string }> = Object.entries(routes).map(([id, spec]) => ({
  id,
  ...spec,
}));
