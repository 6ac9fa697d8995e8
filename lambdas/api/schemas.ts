import * as z from 'zod';
import { eventTypes } from '#core/events.ts';
import { roles, scopes } from '#core/principal.ts';

/**
 * The API's wire shapes. Requests are strict: an unknown field is a 400, never silently dropped, so a
 * client that sends `status` or `ownerId` learns at once that it cannot set them.
 */

/** Whole numbers the API counts with: never negative; sizes, dimensions and rates are above zero. */
const count = z.int().nonnegative();
const positive = z.int().positive();
const partNumber = z.int().min(1).max(10_000);
const httpStatus = z.int().min(100).max(599);

export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: httpStatus,
    detail: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details' });

const checkState = z.enum(['ok', 'failing']);
export const Health = z
  .object({
    status: z.enum(['ok', 'degraded']),
    version: z.string(),
    checks: z.object({ database: checkState, storage: checkState }),
  })
  .meta({ id: 'Health' });
export type Health = z.infer<typeof Health>;

export const VideoId = z
  .string()
  .min(1)
  .max(64)
  .meta({ description: 'Opaque video id', example: '0b4f6f0e-2a4e-4a3e-9a7e-8f8a2f9b1c3d' });
const visibility = z.enum(['public', 'unlisted', 'private']);
const downloadSetting = z.enum(['none', 'highest', 'all']).meta({
  description: 'Progressive MP4 downloads to offer: none (default), the highest rendition, or all of them',
});
const status = z.enum(['uploading', 'processing', 'ready', 'failed']);
const timestamp = z.iso.datetime();

export const Video = z
  .object({
    id: VideoId,
    title: z.string(),
    description: z.string(),
    visibility,
    status,
    failureReason: z.string().nullable(),
    ownerId: z.string(),
    durationSeconds: z.number().nonnegative().nullable(),
    width: positive.nullable(),
    height: positive.nullable(),
    renditions: z.array(
      z.object({
        name: z.string(),
        width: positive,
        height: positive,
        bitrate: positive.meta({ description: 'Bits per second' }),
        codecs: z.string(),
      }),
    ),
    playback: z
      .object({
        hls: z.url().meta({
          description:
            'HLS master playlist. Any HLS client plays it as-is: access travels in the path to every child playlist, segment and track.',
        }),
        poster: z.url(),
        captions: z
          .array(z.object({ captionId: z.string(), language: z.string(), label: z.string(), url: z.url() }))
          .meta({ description: 'Ready caption tracks (WebVTT), also listed in the master playlist' }),
        storyboard: z.url().nullable().meta({
          description:
            'WebVTT whose cues map time ranges to storyboard sprite tiles (sprite-N.jpg#xywh=x,y,w,h); null until made',
        }),
        expiresAt: timestamp.optional().meta({
          description:
            'Private videos only: when these URLs stop working. Public and unlisted URLs do not expire.',
        }),
      })
      .nullable()
      .meta({
        description:
          'Set once the video is ready. Public and unlisted URLs are stable; private ones expire. Making a video private or deleting it revokes earlier URLs.',
      }),
    downloads: z
      .array(
        z.object({
          name: z.string(),
          width: positive,
          height: positive,
          size: positive.meta({ description: 'Bytes' }),
          url: z.url(),
          expiresAt: timestamp.optional(),
        }),
      )
      .meta({
        description:
          'Progressive (faststart) MP4s of a ready video, under the same access rules as playback; empty while being made or when downloads are off',
      }),
    posterTimeSeconds: z
      .number()
      .nullable()
      .meta({ description: 'The poster frame the owner chose; null for the automatic one' }),
    createdAt: timestamp,
    updatedAt: timestamp,
    progress: z.number().min(0).max(1).nullable().optional().meta({
      description:
        'While processing: the share of transcoding done, 0..1; null when unknown. Absent otherwise.',
    }),
  })
  .meta({ id: 'Video' });

export const VideoPage = z
  .object({ items: z.array(Video), nextCursor: z.string().nullable() })
  .meta({ id: 'VideoPage' });

export const VideoParams = z.object({ videoId: VideoId }).strict();

export const ListVideosQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z.string().min(1).max(512).optional(),
    q: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .optional()
      .meta({ description: 'Full-text search over title and description' }),
    owner: z.literal('me').optional().meta({ description: 'List your own videos, in every status' }),
    status: status.optional().meta({ description: 'With owner=me: only videos in this status' }),
  })
  .strict();

export const Title = z.string().trim().min(1).max(200);
export const Description = z.string().max(5000);

export const VideoUpdate = z
  .object({
    title: Title.optional(),
    description: Description.optional(),
    visibility: visibility.optional(),
    downloads: downloadSetting.optional(),
    posterTimeSeconds: z.number().min(0).max(86_400).nullable().optional().meta({
      description:
        'Seconds into the video (0..duration, else 400) of the frame the poster shows; null: the automatic poster. The poster is remade, at a new URL',
    }),
  })
  .strict()
  .meta({
    id: 'VideoUpdate',
    description:
      'Only title, description, visibility, downloads and posterTimeSeconds can be changed; any other field is a 400',
  });

export const Me = z
  .object({
    id: z.string(),
    username: z.string(),
    roles: z.array(z.enum(roles)),
    scopes: z.array(z.enum(scopes)),
    quota: z
      .object({
        bytesUsed: count.meta({
          description:
            'Bytes you store: the declared sizes of your open uploads plus the sources of your videos not deleted',
        }),
        bytesLimit: positive
          .nullable()
          .meta({ description: 'Your storage quota in bytes; null when unlimited' }),
      })
      .meta({ id: 'StorageQuota' }),
  })
  .meta({ id: 'Me' });

export const CreateUploadRequest = z
  .object({
    filename: z
      .string()
      .min(1)
      .max(255)
      .meta({ description: 'Kept as metadata only; never part of an object key' }),
    contentType: z.string().min(1).max(255).meta({ example: 'video/mp4' }),
    size: positive.meta({
      description:
        'Bytes; at most the configured maximum (default 20 GiB), else 413; and within your storage quota (GET /v1/me), else 413 storage-quota-exceeded',
    }),
    title: Title,
    description: Description.optional(),
    visibility: visibility.optional().meta({ description: 'Default private' }),
    downloads: downloadSetting.optional(),
  })
  .strict()
  .meta({ id: 'CreateUploadRequest' });

export const UploadCreated = z
  .object({
    uploadId: z.string(),
    videoId: z.string(),
    partSize: positive,
    partCount: positive,
    expiresAt: timestamp,
  })
  .meta({ id: 'UploadCreated' });

export const UploadParams = z.object({ uploadId: z.string().min(1).max(64) }).strict();

export const SignPartsRequest = z
  .object({
    partNumbers: z.array(partNumber).min(1).max(100),
  })
  .strict()
  .meta({ id: 'SignPartsRequest' });

export const SignedParts = z
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
  .meta({ id: 'SignedParts' });

export const Upload = z
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
  .meta({ id: 'Upload' });

export const CompleteUploadRequest = z
  .object({
    parts: z
      .array(z.object({ partNumber, etag: z.string().min(1).max(128) }).strict())
      .max(10_000)
      .optional()
      .meta({ description: 'Left out: the server lists the parts itself' }),
  })
  .strict()
  .meta({ id: 'CompleteUploadRequest' });

export const UploadAccepted = z
  .object({ videoId: z.string(), status: z.literal('processing') })
  .meta({ id: 'UploadAccepted' });

const scope = z.enum(scopes);

export const CreateApiKeyRequest = z
  .object({
    name: z.string().trim().min(1).max(100).meta({ description: 'A label to recognise the key by' }),
    scopes: z
      .array(scope)
      .min(1)
      .max(3)
      .meta({ description: 'What the key may do; never more than its owner may' }),
  })
  .strict()
  .meta({ id: 'CreateApiKeyRequest' });

export const ApiKey = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string().meta({ description: 'The visible start of the key, e.g. vck_Ab12Cd34Ef56' }),
    scopes: z.array(scope),
    createdAt: timestamp,
    lastUsedAt: timestamp.nullable(),
  })
  .meta({ id: 'ApiKey' });

export const ApiKeyCreated = ApiKey.extend({
  key: z.string().meta({ description: 'The key itself: shown this once, send it as X-Api-Key' }),
}).meta({ id: 'ApiKeyCreated' });

export const ApiKeyList = z.object({ items: z.array(ApiKey) }).meta({ id: 'ApiKeyList' });

export const ApiKeyParams = z.object({ keyId: z.string().min(1).max(64) }).strict();

export const ListAuditQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z.string().min(1).max(512).optional(),
    actor: z.string().min(1).max(256).optional().meta({ description: 'Only entries by this user id' }),
    action: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .meta({ description: 'Only this action, e.g. video.delete' }),
    outcome: z.enum(['success', 'denied']).optional(),
  })
  .strict();

export const AuditEntry = z
  .object({
    id: z.string(),
    occurredAt: timestamp,
    actor: z.object({
      id: z.string().nullable(),
      via: z.enum(['token', 'api-key', 'anonymous']),
      apiKeyId: z.string().nullable(),
    }),
    action: z.string(),
    outcome: z.enum(['success', 'denied']),
    status: httpStatus,
    target: z.object({ type: z.string(), id: z.string().nullable() }).nullable(),
    requestId: z.string(),
    sourceIp: z.string(),
    detail: z.string().nullable(),
  })
  .meta({ id: 'AuditEntry' });

export const AuditPage = z
  .object({ items: z.array(AuditEntry), nextCursor: z.string().nullable() })
  .meta({ id: 'AuditPage' });

/** BCP 47: a primary language subtag, then subtags of 1-8 letters or digits (en, pt-BR, zh-Hant-TW). */
const LanguageTag = z
  .string()
  .min(2)
  .max(35)
  .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/, 'must be a BCP 47 language tag such as en, pt-BR or zh-Hant')
  .meta({ example: 'en' });

export const CaptionParams = z.object({ videoId: VideoId, captionId: z.string().min(1).max(64) }).strict();

export const CreateCaptionRequest = z
  .object({
    language: LanguageTag,
    label: z
      .string()
      .min(1)
      .max(100)
      .regex(/^[^\p{Cc}]*$/u, 'must not contain control characters')
      .meta({ description: 'What players list, e.g. "English (CC)"' }),
    format: z.enum(['vtt', 'srt']),
    size: z
      .int()
      .min(1)
      .max(2 * 1024 * 1024)
      .meta({
        description: 'Bytes of the file you will PUT (at most 2 MiB); the upload URL takes exactly this',
      }),
  })
  .strict()
  .meta({ id: 'CreateCaptionRequest' });

export const CaptionCreated = z
  .object({
    captionId: z.string(),
    upload: z.object({
      url: z.url(),
      method: z.literal('PUT'),
      headers: z.record(z.string(), z.string()),
      expiresAt: timestamp,
    }),
  })
  .meta({ id: 'CaptionCreated' });

export const Caption = z
  .object({
    captionId: z.string(),
    language: z.string(),
    label: z.string(),
    status: z.enum(['uploading', 'processing', 'ready', 'failed']),
    failureReason: z.string().nullable(),
  })
  .meta({ id: 'Caption' });

export const CaptionList = z.object({ items: z.array(Caption) }).meta({ id: 'CaptionList' });

const eventType = z.enum(eventTypes).meta({ id: 'EventType' });
const pageQuery = {
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().min(1).max(512).optional(),
};

export const WebhookParams = z.object({ webhookId: z.string().min(1).max(64) }).strict();
export const DeliveryParams = z
  .object({ webhookId: z.string().min(1).max(64), deliveryId: z.string().min(1).max(64) })
  .strict();
export const ListWebhooksQuery = z.object(pageQuery).strict();
export const ListDeliveriesQuery = z.object(pageQuery).strict();

const webhookUrl = z.string().trim().min(1).max(2048).meta({
  description:
    'Where deliveries are POSTed: https, resolving only to public addresses (never loopback, private, link-local such as 169.254.169.254, CGNAT or multicast); the local runtime also takes http:// on loopback',
  example: 'https://example.com/webhooks/videocloud',
});
const webhookEvents = z
  .array(eventType)
  .min(1)
  .max(50)
  .meta({ description: 'Event types to receive; all types when left out' });

export const CreateWebhookRequest = z
  .object({
    url: webhookUrl,
    description: z.string().max(500).optional(),
    events: webhookEvents.optional(),
  })
  .strict()
  .meta({ id: 'CreateWebhookRequest' });

export const UpdateWebhookRequest = z
  .object({
    url: webhookUrl.optional(),
    description: z.string().max(500).optional(),
    events: webhookEvents.optional(),
    enabled: z.boolean().optional(),
  })
  .strict()
  .meta({ id: 'UpdateWebhookRequest' });

export const Webhook = z
  .object({
    id: z.string(),
    url: z.string(),
    description: z.string(),
    events: z.array(eventType),
    enabled: z.boolean(),
    disabledReason: z
      .string()
      .nullable()
      .meta({ description: 'Why it is disabled: by its owner, or automatically after days of failures' }),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'Webhook' });

// A pattern, not startsWith(): zod renders that as `format: starts_with`, which no validator knows.
const secret = z
  .string()
  .regex(/^whsec_/)
  .meta({
    description: 'The signing secret (Standard Webhooks): shown here only; verify deliveries with it',
  });

export const WebhookCreated = Webhook.extend({ secret }).meta({ id: 'WebhookCreated' });
export const WebhookSecret = z.object({ secret }).meta({ id: 'WebhookSecret' });
export const WebhookPage = z
  .object({ items: z.array(Webhook), nextCursor: z.string().nullable() })
  .meta({ id: 'WebhookPage' });
export const WebhookTestAccepted = z
  .object({ eventId: z.string(), deliveryId: z.string() })
  .meta({ id: 'WebhookTestAccepted' });

export const Delivery = z
  .object({
    id: z.string(),
    eventId: z.string().meta({ description: 'Also the webhook-id header of every attempt' }),
    eventType,
    status: z.enum(['pending', 'succeeded', 'failed']),
    attempts: count,
    lastStatusCode: httpStatus.nullable(),
    lastError: z.string().nullable(),
    lastLatencyMs: count.nullable(),
    lastResponseExcerpt: z
      .string()
      .nullable()
      .meta({ description: 'The first 256 characters of the last answer' }),
    lastAttemptAt: timestamp.nullable(),
    nextAttemptAt: timestamp.nullable(),
    createdAt: timestamp,
  })
  .meta({ id: 'Delivery' });

export const DeliveryPage = z
  .object({ items: z.array(Delivery), nextCursor: z.string().nullable() })
  .meta({ id: 'DeliveryPage' });

/** The body of every delivery (and the detail of every EventBridge event). */
export const WebhookEvent = z
  .object({
    id: z.string().meta({ description: 'The event id; also the webhook-id header, the same on every retry' }),
    type: eventType,
    timestamp,
    data: z.record(z.string(), z.unknown()).meta({
      description: 'The resource as the API returns it to its owner: a Video, or an Upload for upload.*',
    }),
  })
  .meta({ id: 'WebhookEvent' });
