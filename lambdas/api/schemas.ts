import { eventTypes } from '#core/events.ts';
import { roles, scopes } from '#core/principal.ts';
import * as z from '#shared/zod.ts';

/**
 * The API's wire shapes, in zod/mini (issue 14: 39 KB of every function bundle where classic zod took
 * 97 KB); the OpenAPI document reads these same schemas and their `z.meta()` entries through zod-openapi.
 * Requests are strict: an unknown field is a 400, never silently dropped, so a client that sends
 * `status` or `ownerId` learns at once that it cannot set them.
 */

/**
 * Every schema here is declared `pure(() => ...)`: built at import as before, but marked free of side
 * effects (the annotation on the next line), so esbuild drops from a function's bundle every schema its
 * own route does not use, and the function builds only those it keeps (issue 14: building the whole
 * table's schemas took 27 ms of every API function's import CPU; README, "Function size, cold starts and
 * the VPC"). The mark works within this module only: esbuild does not carry it across an import, so
 * `pure` is not shared, and a schema written anywhere else (a route row, say) is built in every bundle.
 */
/* @__NO_SIDE_EFFECTS__ */
function pure<T>(build: () => T): T {
  return build();
}

/** The docs routes' shapes (each its own schema, as when they were written inline in their rows). */
export const OpenApiDocumentBody = pure(() => z.record(z.string(), z.unknown()));
export const DocsPage = pure(() => z.string());
export const DocsAssetParams = pure(() => z.object({ asset: z.string() }));
export const DocsAssetBody = pure(() => z.string());

/** Whole numbers the API counts with: never negative; sizes, dimensions and rates are above zero. */
const count = pure(() => z.int().check(z.nonnegative()));
const positive = pure(() => z.int().check(z.positive()));
const partNumber = pure(() => z.int().check(z.gte(1), z.lte(10_000)));
const httpStatus = pure(() => z.int().check(z.gte(100), z.lte(599)));

export const Problem = pure(() =>
  z
    .object({
      type: z.string(),
      title: z.string(),
      status: httpStatus,
      detail: z.string(),
      errors: z.optional(z.array(z.object({ path: z.string(), message: z.string() }))),
    })
    .check(z.meta({ id: 'Problem', description: 'RFC 9457 problem details' })),
);

const checkState = pure(() => z.enum(['ok', 'failing']));
export const Health = pure(() =>
  z
    .object({
      status: z.enum(['ok', 'degraded']),
      version: z.string(),
      checks: z.object({ database: checkState, storage: checkState }),
    })
    .check(z.meta({ id: 'Health' })),
);
export type Health = z.infer<typeof Health>;

export const VideoId = pure(() =>
  z
    .string()
    .check(
      z.minLength(1),
      z.maxLength(64),
      z.meta({ description: 'Opaque video id', example: '0b4f6f0e-2a4e-4a3e-9a7e-8f8a2f9b1c3d' }),
    ),
);
const visibility = pure(() => z.enum(['public', 'unlisted', 'private']));
const downloadSetting = pure(() =>
  z.enum(['none', 'highest', 'all']).check(
    z.meta({
      description:
        'Progressive MP4 downloads to offer: none (default), the highest rendition, or all of them',
    }),
  ),
);
const status = pure(() => z.enum(['uploading', 'processing', 'ready', 'failed']));
const timestamp = pure(() => z.iso.datetime());

export const Video = pure(() =>
  z
    .object({
      id: VideoId,
      title: z.string(),
      description: z.string(),
      visibility,
      status,
      failureReason: z.nullable(z.string()),
      ownerId: z.string(),
      durationSeconds: z.nullable(z.number().check(z.nonnegative())),
      width: z.nullable(positive),
      height: z.nullable(positive),
      renditions: z.array(
        z.object({
          name: z.string(),
          width: positive,
          height: positive,
          bitrate: positive.check(z.meta({ description: 'Bits per second' })),
          codecs: z.string(),
        }),
      ),
      playback: z
        .nullable(
          z.object({
            hls: z.url().check(
              z.meta({
                description:
                  'HLS master playlist. Any HLS client plays it as-is: access travels in the path to every child playlist, segment and track.',
              }),
            ),
            poster: z.url(),
            captions: z
              .array(
                z.object({ captionId: z.string(), language: z.string(), label: z.string(), url: z.url() }),
              )
              .check(
                z.meta({ description: 'Ready caption tracks (WebVTT), also listed in the master playlist' }),
              ),
            storyboard: z.nullable(z.url()).check(
              z.meta({
                description:
                  'WebVTT whose cues map time ranges to storyboard sprite tiles (sprite-N.jpg#xywh=x,y,w,h); null until made',
              }),
            ),
            expiresAt: z.optional(timestamp).check(
              z.meta({
                description:
                  'Private videos only: when these URLs stop working. Public and unlisted URLs do not expire.',
              }),
            ),
          }),
        )
        .check(
          z.meta({
            description:
              'Set once the video is ready. Public and unlisted URLs are stable; private ones expire. Making a video private or deleting it revokes earlier URLs.',
          }),
        ),
      downloads: z
        .array(
          z.object({
            name: z.string(),
            width: positive,
            height: positive,
            size: positive.check(z.meta({ description: 'Bytes' })),
            url: z.url(),
            expiresAt: z.optional(timestamp),
          }),
        )
        .check(
          z.meta({
            description:
              'Progressive (faststart) MP4s of a ready video, under the same access rules as playback; empty while being made or when downloads are off',
          }),
        ),
      posterTimeSeconds: z
        .nullable(z.number())
        .check(z.meta({ description: 'The poster frame the owner chose; null for the automatic one' })),
      createdAt: timestamp,
      updatedAt: timestamp,
      progress: z.optional(z.nullable(z.number().check(z.gte(0), z.lte(1)))).check(
        z.meta({
          description:
            'While processing: the share of transcoding done, 0..1; null when unknown. Absent otherwise.',
        }),
      ),
    })
    .check(z.meta({ id: 'Video' })),
);

export const VideoPage = pure(() =>
  z.object({ items: z.array(Video), nextCursor: z.nullable(z.string()) }).check(z.meta({ id: 'VideoPage' })),
);

export const VideoParams = pure(() => z.strictObject({ videoId: VideoId }));

export const ListVideosQuery = pure(() =>
  z.strictObject({
    limit: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(100)), 20),
    cursor: z.optional(z.string().check(z.minLength(1), z.maxLength(512))),
    q: z
      .optional(z.string().check(z.trim(), z.minLength(1), z.maxLength(200)))
      .check(z.meta({ description: 'Full-text search over title and description' })),
    owner: z
      .optional(z.literal('me'))
      .check(z.meta({ description: 'List your own videos, in every status' })),
    status: z.optional(status).check(z.meta({ description: 'With owner=me: only videos in this status' })),
  }),
);

export const Title = pure(() => z.string().check(z.trim(), z.minLength(1), z.maxLength(200)));
export const Description = pure(() => z.string().check(z.maxLength(5000)));

export const VideoUpdate = pure(() =>
  z
    .strictObject({
      title: z.optional(Title),
      description: z.optional(Description),
      visibility: z.optional(visibility),
      downloads: z.optional(downloadSetting),
      posterTimeSeconds: z.optional(z.nullable(z.number().check(z.gte(0), z.lte(86_400)))).check(
        z.meta({
          description:
            'Seconds into the video (0..duration, else 400) of the frame the poster shows; null: the automatic poster. The poster is remade, at a new URL',
        }),
      ),
    })
    .check(
      z.meta({
        id: 'VideoUpdate',
        description:
          'Only title, description, visibility, downloads and posterTimeSeconds can be changed; any other field is a 400',
      }),
    ),
);

export const Me = pure(() =>
  z
    .object({
      id: z.string(),
      username: z.string(),
      roles: z.array(z.enum(roles)),
      scopes: z.array(z.enum(scopes)),
      quota: z
        .object({
          bytesUsed: count.check(
            z.meta({
              description:
                'Bytes you store: the declared sizes of your open uploads plus the sources of your videos not deleted',
            }),
          ),
          bytesLimit: z
            .nullable(positive)
            .check(z.meta({ description: 'Your storage quota in bytes; null when unlimited' })),
        })
        .check(z.meta({ id: 'StorageQuota' })),
    })
    .check(z.meta({ id: 'Me' })),
);

export const CreateUploadRequest = pure(() =>
  z
    .strictObject({
      filename: z
        .string()
        .check(
          z.minLength(1),
          z.maxLength(255),
          z.meta({ description: 'Kept as metadata only; never part of an object key' }),
        ),
      contentType: z.string().check(z.minLength(1), z.maxLength(255), z.meta({ example: 'video/mp4' })),
      size: positive.check(
        z.meta({
          description:
            'Bytes; at most the configured maximum (default 20 GiB), else 413; and within your storage quota (GET /v1/me), else 413 storage-quota-exceeded',
        }),
      ),
      title: Title,
      description: z.optional(Description),
      visibility: z.optional(visibility).check(z.meta({ description: 'Default private' })),
      downloads: z.optional(downloadSetting),
    })
    .check(z.meta({ id: 'CreateUploadRequest' })),
);

export const UploadCreated = pure(() =>
  z
    .object({
      uploadId: z.string(),
      videoId: z.string(),
      partSize: positive,
      partCount: positive,
      expiresAt: timestamp,
    })
    .check(z.meta({ id: 'UploadCreated' })),
);

export const UploadParams = pure(() =>
  z.strictObject({ uploadId: z.string().check(z.minLength(1), z.maxLength(64)) }),
);

export const SignPartsRequest = pure(() =>
  z
    .strictObject({
      partNumbers: z.array(partNumber).check(z.minLength(1), z.maxLength(100)),
    })
    .check(z.meta({ id: 'SignPartsRequest' })),
);

export const SignedParts = pure(() =>
  z
    .object({
      parts: z.array(
        z.object({
          partNumber,
          url: z.url(),
          method: z.literal('PUT'),
          headers: z.record(z.string(), z.string()),
          expiresAt: timestamp,
        }),
      ),
    })
    .check(z.meta({ id: 'SignedParts' })),
);

export const Upload = pure(() =>
  z
    .object({
      uploadId: z.string(),
      videoId: z.string(),
      status: z.enum(['uploading', 'completed', 'aborted', 'expired']),
      size: positive,
      partSize: positive,
      partCount: positive,
      uploadedParts: z.array(z.object({ partNumber, size: count, etag: z.string() })),
      bytesUploaded: count,
      expiresAt: timestamp,
    })
    .check(z.meta({ id: 'Upload' })),
);

export const CompleteUploadRequest = pure(() =>
  z
    .strictObject({
      parts: z
        .optional(
          z
            .array(z.strictObject({ partNumber, etag: z.string().check(z.minLength(1), z.maxLength(128)) }))
            .check(z.maxLength(10_000)),
        )
        .check(z.meta({ description: 'Left out: the server lists the parts itself' })),
    })
    .check(z.meta({ id: 'CompleteUploadRequest' })),
);

export const UploadAccepted = pure(() =>
  z.object({ videoId: z.string(), status: z.literal('processing') }).check(z.meta({ id: 'UploadAccepted' })),
);

const scope = pure(() => z.enum(scopes));

export const CreateApiKeyRequest = pure(() =>
  z
    .strictObject({
      name: z
        .string()
        .check(
          z.trim(),
          z.minLength(1),
          z.maxLength(100),
          z.meta({ description: 'A label to recognise the key by' }),
        ),
      scopes: z
        .array(scope)
        .check(
          z.minLength(1),
          z.maxLength(3),
          z.meta({ description: 'What the key may do; never more than its owner may' }),
        ),
    })
    .check(z.meta({ id: 'CreateApiKeyRequest' })),
);

// Extended from the object before its z.meta(): a meta check travels with the def it is in, so extending
// ApiKey itself would register the id ApiKey twice (Webhook below likewise).
const apiKeyFields = pure(() =>
  z.object({
    id: z.string(),
    name: z.string(),
    prefix: z.string().check(z.meta({ description: 'The visible start of the key, e.g. vck_Ab12Cd34Ef56' })),
    scopes: z.array(scope),
    createdAt: timestamp,
    lastUsedAt: z.nullable(timestamp),
  }),
);
export const ApiKey = pure(() => apiKeyFields.check(z.meta({ id: 'ApiKey' })));

export const ApiKeyCreated = pure(() =>
  z
    .extend(apiKeyFields, {
      key: z.string().check(z.meta({ description: 'The key itself: shown this once, send it as X-Api-Key' })),
    })
    .check(z.meta({ id: 'ApiKeyCreated' })),
);

export const ApiKeyList = pure(() =>
  z.object({ items: z.array(ApiKey) }).check(z.meta({ id: 'ApiKeyList' })),
);

export const ApiKeyParams = pure(() =>
  z.strictObject({ keyId: z.string().check(z.minLength(1), z.maxLength(64)) }),
);

export const ListAuditQuery = pure(() =>
  z.strictObject({
    limit: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(100)), 20),
    cursor: z.optional(z.string().check(z.minLength(1), z.maxLength(512))),
    actor: z
      .optional(z.string().check(z.minLength(1), z.maxLength(256)))
      .check(z.meta({ description: 'Only entries by this user id' })),
    action: z
      .optional(z.string().check(z.minLength(1), z.maxLength(100)))
      .check(z.meta({ description: 'Only this action, e.g. video.delete' })),
    outcome: z.optional(z.enum(['success', 'denied'])),
  }),
);

export const AuditEntry = pure(() =>
  z
    .object({
      id: z.string(),
      occurredAt: timestamp,
      actor: z.object({
        id: z.nullable(z.string()),
        via: z.enum(['token', 'api-key', 'anonymous']),
        apiKeyId: z.nullable(z.string()),
      }),
      action: z.string(),
      outcome: z.enum(['success', 'denied']),
      status: httpStatus,
      target: z.nullable(z.object({ type: z.string(), id: z.nullable(z.string()) })),
      requestId: z.string(),
      sourceIp: z.string(),
      detail: z.nullable(z.string()),
    })
    .check(z.meta({ id: 'AuditEntry' })),
);

export const AuditPage = pure(() =>
  z
    .object({ items: z.array(AuditEntry), nextCursor: z.nullable(z.string()) })
    .check(z.meta({ id: 'AuditPage' })),
);

/** BCP 47: a primary language subtag, then subtags of 1-8 letters or digits (en, pt-BR, zh-Hant-TW). */
const LanguageTag = pure(() =>
  z
    .string()
    .check(
      z.minLength(2),
      z.maxLength(35),
      z.regex(
        /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/,
        'must be a BCP 47 language tag such as en, pt-BR or zh-Hant',
      ),
      z.meta({ example: 'en' }),
    ),
);

export const CaptionParams = pure(() =>
  z.strictObject({
    videoId: VideoId,
    captionId: z.string().check(z.minLength(1), z.maxLength(64)),
  }),
);

export const CreateCaptionRequest = pure(() =>
  z
    .strictObject({
      language: LanguageTag,
      label: z
        .string()
        .check(
          z.minLength(1),
          z.maxLength(100),
          z.regex(/^[^\p{Cc}]*$/u, 'must not contain control characters'),
          z.meta({ description: 'What players list, e.g. "English (CC)"' }),
        ),
      format: z.enum(['vtt', 'srt']),
      size: z.int().check(
        z.gte(1),
        z.lte(2 * 1024 * 1024),
        z.meta({
          description: 'Bytes of the file you will PUT (at most 2 MiB); the upload URL takes exactly this',
        }),
      ),
    })
    .check(z.meta({ id: 'CreateCaptionRequest' })),
);

export const CaptionCreated = pure(() =>
  z
    .object({
      captionId: z.string(),
      upload: z.object({
        url: z.url(),
        method: z.literal('PUT'),
        headers: z.record(z.string(), z.string()),
        expiresAt: timestamp,
      }),
    })
    .check(z.meta({ id: 'CaptionCreated' })),
);

export const Caption = pure(() =>
  z
    .object({
      captionId: z.string(),
      language: z.string(),
      label: z.string(),
      status: z.enum(['uploading', 'processing', 'ready', 'failed']),
      failureReason: z.nullable(z.string()),
    })
    .check(z.meta({ id: 'Caption' })),
);

export const CaptionList = pure(() =>
  z.object({ items: z.array(Caption) }).check(z.meta({ id: 'CaptionList' })),
);

const eventType = pure(() => z.enum(eventTypes).check(z.meta({ id: 'EventType' })));
const pageQuery = pure(() => ({
  limit: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(100)), 20),
  cursor: z.optional(z.string().check(z.minLength(1), z.maxLength(512))),
}));

export const WebhookParams = pure(() =>
  z.strictObject({ webhookId: z.string().check(z.minLength(1), z.maxLength(64)) }),
);
export const DeliveryParams = pure(() =>
  z.strictObject({
    webhookId: z.string().check(z.minLength(1), z.maxLength(64)),
    deliveryId: z.string().check(z.minLength(1), z.maxLength(64)),
  }),
);
export const ListWebhooksQuery = pure(() => z.strictObject(pageQuery));
export const ListDeliveriesQuery = pure(() => z.strictObject(pageQuery));

const webhookUrl = pure(() =>
  z.string().check(
    z.trim(),
    z.minLength(1),
    z.maxLength(2048),
    z.meta({
      description:
        'Where deliveries are POSTed: https, resolving only to public addresses (never loopback, private, link-local such as 169.254.169.254, CGNAT or multicast); the local runtime also takes http:// on loopback',
      example: 'https://example.com/webhooks/videocloud',
    }),
  ),
);
const webhookEvents = pure(() =>
  z
    .array(eventType)
    .check(
      z.minLength(1),
      z.maxLength(50),
      z.meta({ description: 'Event types to receive; all types when left out' }),
    ),
);

export const CreateWebhookRequest = pure(() =>
  z
    .strictObject({
      url: webhookUrl,
      description: z.optional(z.string().check(z.maxLength(500))),
      events: z.optional(webhookEvents),
    })
    .check(z.meta({ id: 'CreateWebhookRequest' })),
);

export const UpdateWebhookRequest = pure(() =>
  z
    .strictObject({
      url: z.optional(webhookUrl),
      description: z.optional(z.string().check(z.maxLength(500))),
      events: z.optional(webhookEvents),
      enabled: z.optional(z.boolean()),
    })
    .check(z.meta({ id: 'UpdateWebhookRequest' })),
);

const webhookFields = pure(() =>
  z.object({
    id: z.string(),
    url: z.string(),
    description: z.string(),
    events: z.array(eventType),
    enabled: z.boolean(),
    disabledReason: z
      .nullable(z.string())
      .check(
        z.meta({ description: 'Why it is disabled: by its owner, or automatically after days of failures' }),
      ),
    createdAt: timestamp,
    updatedAt: timestamp,
  }),
);
export const Webhook = pure(() => webhookFields.check(z.meta({ id: 'Webhook' })));

// A pattern, not startsWith(): zod renders that as `format: starts_with`, which no validator knows.
const secret = pure(() =>
  z.string().check(
    z.regex(/^whsec_/),
    z.meta({
      description: 'The signing secret (Standard Webhooks): shown here only; verify deliveries with it',
    }),
  ),
);

export const WebhookCreated = pure(() =>
  z.extend(webhookFields, { secret }).check(z.meta({ id: 'WebhookCreated' })),
);
export const WebhookSecret = pure(() => z.object({ secret }).check(z.meta({ id: 'WebhookSecret' })));
export const WebhookPage = pure(() =>
  z
    .object({ items: z.array(Webhook), nextCursor: z.nullable(z.string()) })
    .check(z.meta({ id: 'WebhookPage' })),
);
export const WebhookTestAccepted = pure(() =>
  z.object({ eventId: z.string(), deliveryId: z.string() }).check(z.meta({ id: 'WebhookTestAccepted' })),
);

export const Delivery = pure(() =>
  z
    .object({
      id: z.string(),
      eventId: z.string().check(z.meta({ description: 'Also the webhook-id header of every attempt' })),
      eventType,
      status: z.enum(['pending', 'succeeded', 'failed']),
      attempts: count,
      lastStatusCode: z.nullable(httpStatus),
      lastError: z.nullable(z.string()),
      lastLatencyMs: z.nullable(count),
      lastResponseExcerpt: z
        .nullable(z.string())
        .check(z.meta({ description: 'The first 256 characters of the last answer' })),
      lastAttemptAt: z.nullable(timestamp),
      nextAttemptAt: z.nullable(timestamp),
      createdAt: timestamp,
    })
    .check(z.meta({ id: 'Delivery' })),
);

export const DeliveryPage = pure(() =>
  z
    .object({ items: z.array(Delivery), nextCursor: z.nullable(z.string()) })
    .check(z.meta({ id: 'DeliveryPage' })),
);

/** The body of every delivery (and the detail of every EventBridge event). */
export const WebhookEvent = pure(() =>
  z
    .object({
      id: z
        .string()
        .check(z.meta({ description: 'The event id; also the webhook-id header, the same on every retry' })),
      type: eventType,
      timestamp,
      data: z.record(z.string(), z.unknown()).check(
        z.meta({
          description: 'The resource as the API returns it to its owner: a Video, or an Upload for upload.*',
        }),
      ),
    })
    .check(z.meta({ id: 'WebhookEvent' })),
);

/**
 * The API's answers, by name. A row names its answer's schema (`schema: 'Video'`) rather than holding
 * it: no function validates what it answers, so no function builds these (the OpenAPI document and the
 * tests read them here); a schema held in a row was built in its function at every cold start (issue 14:
 * 2-3 ms of videos-get's import).
 */
export const responseSchemas = {
  Health,
  OpenApiDocumentBody,
  DocsPage,
  DocsAssetBody,
  Me,
  VideoPage,
  Video,
  CaptionCreated,
  CaptionList,
  UploadCreated,
  SignedParts,
  Upload,
  UploadAccepted,
  ApiKeyCreated,
  ApiKeyList,
  AuditPage,
  WebhookCreated,
  WebhookPage,
  Webhook,
  WebhookSecret,
  WebhookTestAccepted,
  DeliveryPage,
};

export type ResponseSchemaName = keyof typeof responseSchemas;
