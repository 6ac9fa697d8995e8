import type { S3rverMiddleware } from 's3rver';

/**
 * S3's error responses for what our middlewares in front of s3rver refuse: the code, message and detail
 * S3 would send, as S3's XML, with S3's status for the code. s3rver renders its own errors; these are
 * thrown by ours and rendered by `s3ErrorResponses`, the first middleware, so nothing here depends on
 * s3rver's internal error class.
 */
const STATUS: Record<string, number> = {
  AccessDenied: 403,
  AuthorizationHeaderMalformed: 400,
  AuthorizationQueryParametersError: 400,
  EntityTooSmall: 400,
  IncompleteBody: 400,
  InvalidAccessKeyId: 403,
  InvalidArgument: 400,
  InvalidPart: 400,
  InvalidPartOrder: 400,
  InvalidRequest: 400,
  InvalidURI: 400,
  MalformedXML: 400,
  MaxMessageLengthExceeded: 400,
  NoSuchBucket: 404,
  NoSuchUpload: 404,
  NotImplemented: 501,
  PreconditionFailed: 412,
  RequestTimeTooSkewed: 403,
  SignatureDoesNotMatch: 403,
  XAmzContentSHA256Mismatch: 400,
};

export class S3Error extends Error {
  status: number;

  constructor(
    readonly code: string,
    message: string,
    readonly detail: Record<string, string | number> = {},
  ) {
    super(message);
    this.status = STATUS[code] ?? 500;
  }

  toXML(): string {
    const tag = (name: string, value: string | number) => `<${name}>${escapeXml(value)}</${name}>`;
    const fields = [tag('Code', this.code), tag('Message', this.message)];
    for (const [name, value] of Object.entries(this.detail)) fields.push(tag(name, value));
    return `<?xml version="1.0" encoding="UTF-8"?>\n<Error>${fields.join('')}</Error>`;
  }
}

/** Renders our S3Errors as s3rver renders its own: XML, S3's status, CORS headers kept. */
export function s3ErrorResponses(): S3rverMiddleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      if (!(error instanceof S3Error)) throw error;
      ctx.status = error.status;
      ctx.type = 'application/xml';
      ctx.body = error.toXML();
    }
  };
}

export function escapeXml(value: string | number): string {
  return String(value).replace(
    /[<>&"']/g,
    (ch) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[ch] ?? ch,
  );
}
