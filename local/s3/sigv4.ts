import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { S3rverMiddleware } from 's3rver';
import S3Error from 's3rver/lib/models/error.js';

/**
 * SigV4 verification for s3rver, which checks only the access key id and expiry of a signed request
 * ("Signature version 4 calculation is unimplemeneted"). Without this, a presigned UploadPart URL could
 * be re-aimed at another part, upload or key and still work locally, and it must not: the API relies on
 * a URL working for that part of that upload only.
 *
 * Both forms are verified: query-string auth (presigned URLs) and the Authorization header (the SDK's
 * own calls). The payload itself is not hashed: presigned URLs carry UNSIGNED-PAYLOAD, and for header
 * auth the declared x-amz-content-sha256 is signed as given but not compared with the body, which
 * would mean buffering every upload. SigV2 and anonymous requests are left to s3rver, unchanged.
 */
export function verifySigV4(credentials: { accessKeyId: string; secretAccessKey: string }): S3rverMiddleware {
  return async (ctx, next) => {
    // A CORS preflight is never signed; s3rver answers it from the bucket's CORS rules.
    if (ctx.method === 'OPTIONS') return next();
    const query = parseQuery(ctx.querystring);
    const authorization = ctx.get('authorization');
    const presigned = query.some(([name]) => name === 'X-Amz-Algorithm');
    // Two mechanisms at once, SigV2, or no auth at all: s3rver has its own answer for each.
    if (presigned ? authorization !== '' : !authorization.startsWith('AWS4-HMAC-SHA256 ')) return next();

    const claim = presigned ? presignedClaim(query) : headerClaim(authorization, ctx.get('x-amz-date'));
    const [accessKeyId, ...scope] = claim.credential.split('/');
    if (accessKeyId !== credentials.accessKeyId) {
      throw new S3Error(
        'InvalidAccessKeyId',
        'The AWS Access Key Id you provided does not exist in our records.',
        { AWSAccessKeyId: accessKeyId ?? '' },
      );
    }
    if (scope.length !== 4 || scope[3] !== 'aws4_request') {
      throw new S3Error(
        presigned ? 'AuthorizationQueryParametersError' : 'AuthorizationHeaderMalformed',
        'Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".',
      );
    }
    checkTime(claim, presigned);

    const payloadHash = presigned
      ? (query.find(([name]) => name === 'X-Amz-Content-Sha256')?.[1] ?? 'UNSIGNED-PAYLOAD')
      : ctx.get('x-amz-content-sha256');
    if (!payloadHash) {
      throw new S3Error('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
    }
    const signedHeaders = claim.signedHeaders.split(';');
    const canonicalRequest = [
      ctx.method,
      canonicalUri(ctx.path),
      canonicalQuery(presigned ? query.filter(([name]) => name !== 'X-Amz-Signature') : query),
      ...signedHeaders.map((name) => `${name}:${ctx.get(name).trim().replace(/\s+/g, ' ')}`),
      '',
      claim.signedHeaders,
      payloadHash,
    ].join('\n');
    const credentialScope = scope.join('/');
    const stringToSign = [
      'AWS4-HMAC-SHA256',
      claim.amzDate,
      credentialScope,
      sha256Hex(canonicalRequest),
    ].join('\n');
    const signingKey = scope.reduce<Buffer | string>(
      (key, part) => hmac(key, part),
      `AWS4${credentials.secretAccessKey}`,
    );
    const expected = hmac(signingKey, stringToSign).toString('hex');
    if (!sameText(expected, claim.signature)) {
      throw new S3Error(
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
        {
          AWSAccessKeyId: accessKeyId,
          StringToSign: stringToSign,
          SignatureProvided: claim.signature,
          CanonicalRequest: canonicalRequest,
        },
      );
    }
    return next();
  };
}

interface Claim {
  credential: string;
  signedHeaders: string;
  signature: string;
  amzDate: string;
  /** Seconds the presigned URL is valid for; absent for header auth. */
  expires?: string;
}

function presignedClaim(query: Array<[string, string]>): Claim {
  const param = (name: string) => query.find(([key]) => key === name)?.[1];
  const [algorithm, credential, signedHeaders, signature, amzDate, expires] = [
    'X-Amz-Algorithm',
    'X-Amz-Credential',
    'X-Amz-SignedHeaders',
    'X-Amz-Signature',
    'X-Amz-Date',
    'X-Amz-Expires',
  ].map(param);
  if (algorithm !== 'AWS4-HMAC-SHA256') {
    throw new S3Error(
      'AuthorizationQueryParametersError',
      'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"',
    );
  }
  if (!credential || !signedHeaders || !signature || !amzDate || expires === undefined) {
    throw new S3Error(
      'AuthorizationQueryParametersError',
      'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
    );
  }
  return { credential, signedHeaders, signature, amzDate, expires };
}

function headerClaim(authorization: string, amzDate: string): Claim {
  const fields = new Map(
    authorization
      .slice('AWS4-HMAC-SHA256 '.length)
      .split(',')
      .map((field) => {
        const [name = '', ...value] = field.trim().split('=');
        return [name, value.join('=')] as const;
      }),
  );
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (!credential || !signedHeaders || !signature) {
    throw new S3Error(
      'AuthorizationHeaderMalformed',
      'The authorization header is malformed; the authorization header requires three components: Credential, SignedHeaders, and Signature.',
    );
  }
  if (!amzDate) {
    throw new S3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  }
  return { credential, signedHeaders, signature, amzDate };
}

/** The same answers s3rver gives (and S3 gives): presigned URLs expire, header-signed requests may not be skewed by more than 15 minutes. */
function checkTime(claim: Claim, presigned: boolean): void {
  const signedAt = parseAmzDate(claim.amzDate);
  if (Number.isNaN(signedAt)) {
    throw new S3Error(
      presigned ? 'AuthorizationQueryParametersError' : 'AccessDenied',
      presigned
        ? `X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`
        : 'AWS authentication requires a valid Date or x-amz-date header',
    );
  }
  const now = Date.now();
  const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+/, '');
  if (!presigned) {
    if (Math.abs(now - signedAt) > 15 * 60_000) {
      throw new S3Error(
        'RequestTimeTooSkewed',
        'The difference between the request time and the current time is too large.',
        { RequestTime: claim.amzDate, ServerTime: iso(now) },
      );
    }
    return;
  }
  const expires = Number(claim.expires);
  if (!Number.isInteger(expires) || expires < 0 || expires > 604_800) {
    throw new S3Error(
      'AuthorizationQueryParametersError',
      'X-Amz-Expires must be a non-negative number of seconds less than a week (604800 seconds)',
    );
  }
  const expiresAt = signedAt + expires * 1000;
  if (now > expiresAt) {
    throw new S3Error('AccessDenied', 'Request has expired', {
      'X-Amz-Expires': claim.expires ?? '',
      Expires: iso(expiresAt),
      ServerTime: iso(now),
    });
  }
}

function parseAmzDate(value: string): number {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  return match
    ? Date.parse(`${match[1]}-${match[2]}-${match[3]}T${match[4]}:${match[5]}:${match[6]}Z`)
    : Number.NaN;
}

/** Query parameters as sent, decoded; the raw string is used because signing covers every parameter, repeats included. */
function parseQuery(querystring: string): Array<[string, string]> {
  return querystring
    .split('&')
    .filter(Boolean)
    .map((pair) => {
      const at = pair.indexOf('=');
      return at === -1
        ? [safeDecode(pair), '']
        : [safeDecode(pair.slice(0, at)), safeDecode(pair.slice(at + 1))];
    });
}

/** S3 signs the path as URI-encoded once (no double encoding, no dot-segment normalisation). */
function canonicalUri(path: string): string {
  return path
    .split('/')
    .map((segment) => uriEncode(safeDecode(segment)))
    .join('/');
}

function canonicalQuery(query: Array<[string, string]>): string {
  return query
    .map(([name, value]) => [uriEncode(name), uriEncode(value)] as const)
    .sort(([a, av], [b, bv]) => (a === b ? compare(av, bv) : compare(a, b)))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

/** RFC 3986 encoding, as SigV4 specifies: everything but A-Z a-z 0-9 - _ . ~ is percent-encoded. */
function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** Code-unit order, which is byte order for the ASCII the encoded names are made of. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

function sha256Hex(data: string): string {
  return createHash('sha256').update(data, 'utf8').digest('hex');
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
