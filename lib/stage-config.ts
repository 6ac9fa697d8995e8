import type { Node } from 'constructs';
import * as z from 'zod';

/** Retention periods CloudWatch Logs accepts; anything else is rejected at deploy time, so reject it here. */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/**
 * A browser origin (`scheme://host[:port]`), exactly as a browser sends it in `Origin`. The same list feeds
 * S3 CORS, API Gateway preflight, the handlers' CORS_ORIGINS and Cognito callback URLs, so a wildcard or a
 * path here would widen all four at once. Plain http is only accepted for loopback development origins.
 */
const webOrigin = z.string().refine(
  (value) => {
    try {
      const url = new URL(value);
      const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
      return url.origin === value && (url.protocol === 'https:' || (url.protocol === 'http:' && loopback));
    } catch {
      return false;
    }
  },
  { message: 'must be an origin like https://app.example.com (no path, no "*"; http only for localhost)' },
);

const stageSettings = z
  .object({
    /** Keep buckets, table, database snapshot and user pool when the stack or resource is removed. */
    retainData: z.boolean(),
    deletionProtection: z.boolean(),
    backupRetentionDays: z.number().int().min(1).max(35),
    requireMfa: z.boolean(),
    webOrigins: z.array(webOrigin),
    throttle: z.object({
      rateLimit: z.number().positive(),
      burstLimit: z.number().int().positive(),
    }),
    logRetentionDays: z
      .number()
      .int()
      .refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days), {
        message: `must be one of ${LOG_RETENTION_DAYS.join(', ')}`,
      }),
    /** Optional; defaults to `retainData` (a stage whose data we keep is one we keep available). */
    multiAz: z.boolean().optional(),
    /** Optional; the smallest Graviton class is plenty for metadata queries behind RDS Proxy. */
    dbInstanceType: z.string().default('t4g.micro'),
    /** Optional; PLUS adds Cognito threat protection at a per-MAU price. */
    cognitoFeaturePlan: z.enum(['essentials', 'plus']).default('essentials'),
    logLevel: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
    /** Optional; WAF rate-based rule: requests per client IP per 5 minutes before it is blocked. */
    wafRatePer5Minutes: z.number().int().min(10).default(2000),
    /**
     * Per-IP limit of the CloudFront web ACL. Far above the API's: a viewer fetches a segment every 4 s
     * (75 per 5 minutes), and a school or office shares one address.
     */
    cdnWafRatePer5Minutes: z.number().int().min(100).default(50_000),
    /**
     * Optional; the ARN the EdgeWaf stack (us-east-1) outputs. Set it after deploying that stack and the
     * media and web distributions are put behind it.
     */
    cloudFrontWebAclArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:wafv2:us-east-1:\d{12}:global\/webacl\/[\w-]+\/[\w-]+$/, {
        message: 'must be the ARN of a CloudFront (global, us-east-1) web ACL, as the EdgeWaf stack outputs',
      })
      .optional(),
    /**
     * Optional; the origins whose pages may play this stage's media with MSE players (hls.js, Shaka,
     * video.js): CORS on the media distribution. `["*"]` (the default) lets any site embed a video it has
     * a playback URL for; the web app's own origin is always allowed.
     */
    embedOrigins: z
      .array(z.union([z.literal('*'), webOrigin]))
      .min(1)
      .default(['*']),
    /** Optional; how long a private video's playback URLs work, in seconds (public ones do not expire). */
    privatePlaybackSeconds: z
      .number()
      .int()
      .min(60)
      .max(24 * 3600)
      .default(3600),
    /** Optional; GuardDuty Malware Protection for S3 on the uploads bucket (billed per GB scanned). */
    malwareProtection: z.boolean().default(true),
    /**
     * Optional; sources longer than this many seconds go to AWS Elemental MediaConvert instead of the
     * ffmpeg chunk jobs. Unset (the default): ffmpeg, fanned out over parallel chunk jobs, takes every
     * source up to the maximum source length (4 h), and ingest may not start MediaConvert jobs at all.
     */
    mediaConvertAboveSeconds: z.number().int().min(60).optional(),
  })
  .strict();

export type StageSettings = z.output<typeof stageSettings>;

export interface StageConfig extends Omit<StageSettings, 'multiAz'> {
  /** The stage's name, used in stack names and physical names (`dev`, `prod`). */
  name: string;
  multiAz: boolean;
}

const STAGE_NAME = /^[a-z][a-z0-9-]{1,15}$/;

/**
 * Reads `context.stage` (default from cdk.json, override with `-c stage=prod`) and validates
 * `context.stages[stage]`. Fails synth with a message that names the stage and every bad field.
 */
export function loadStageConfig(node: Node): StageConfig {
  const name: unknown = node.tryGetContext('stage');
  const stages: unknown = node.tryGetContext('stages');
  if (typeof name !== 'string' || !STAGE_NAME.test(name)) {
    throw new Error(
      `Stage ${JSON.stringify(name)} is not a valid stage name: pass -c stage=<name> with a lower-case name ` +
        'of 2-16 letters, digits or dashes (it becomes part of stack and resource names).',
    );
  }
  if (typeof stages !== 'object' || stages === null || Array.isArray(stages)) {
    throw new Error('cdk.json context.stages is missing: it must map each stage name to its settings.');
  }
  const known = Object.keys(stages);
  if (!Object.hasOwn(stages, name)) {
    throw new Error(
      `Unknown stage "${name}": cdk.json context.stages defines ${known.join(', ') || 'none'}. ` +
        'Pass -c stage=<one of them> or add the stage to cdk.json.',
    );
  }
  const result = stageSettings.safeParse((stages as Record<string, unknown>)[name]);
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `  - ${issue.path.join('.') || '(stage)'}: ${issue.message}`,
    );
    throw new Error(`Stage "${name}" in cdk.json context.stages is invalid:\n${problems.join('\n')}`);
  }
  const { multiAz, ...settings } = result.data;
  return { name, ...settings, multiAz: multiAz ?? settings.retainData };
}
