import {
  createECDH,
  createHash,
  createHmac,
  createPublicKey,
  type KeyObject,
  randomBytes,
  timingSafeEqual,
  verify,
} from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { unescape as unescapeQuery } from 'node:querystring';

/**
 * AWS Signature Version 4, checked the way the services check it, for every local stand-in (S3, DynamoDB,
 * SQS, and SigV4A for the CloudFront KeyValueStore): a request is let in only when it carries a signature (Authorization header or presigned query)
 * made with the runtime's own key pair, for this service and region, in time. Each stand-in turns a
 * failure into its own service's error shape; the checks and their order are shared here.
 */
export interface LocalCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** s3rver knows one account, whose key id is this; the secret is the runtime's own (below). */
export const LOCAL_ACCESS_KEY_ID = 'S3RVER';
export const LOCAL_REGION = 'us-east-1';

/**
 * The runtime's key pair: a random secret made on first start and kept under the data dir (mode 600),
 * like the token issuer's key, so presigned URLs survive a restart and no one who merely knows this
 * code (or s3rver's default `S3RVER` secret) can sign requests to the stand-ins.
 */
export function localCredentials(keyDir: string): LocalCredentials {
  const file = join(keyDir, 'local-aws-credentials.json');
  if (!existsSync(file)) {
    mkdirSync(keyDir, { recursive: true });
    const secretAccessKey = randomBytes(30).toString('base64url');
    writeFileSync(file, JSON.stringify({ accessKeyId: LOCAL_ACCESS_KEY_ID, secretAccessKey }), {
      mode: 0o600,
    });
  }
  const stored = JSON.parse(readFileSync(file, 'utf8')) as LocalCredentials;
  return { accessKeyId: stored.accessKeyId, secretAccessKey: stored.secretAccessKey };
}

export type SigV4FailureCode =
  /** No signature at all, or one of another kind (SigV2, Basic). */
  | 'MissingAuthentication'
  /** Both an Authorization header and presigned query parameters. */
  | 'TwoMechanisms'
  /** Missing or ill-formed signature fields. */
  | 'Malformed'
  | 'InvalidAccessKeyId'
  /** A credential scope for another date, region or service. */
  | 'WrongScope'
  | 'Expired'
  | 'TimeTooSkewed'
  | 'MissingPayloadHash'
  /** An x-amz-* header that the signature does not cover (S3 refuses those). */
  | 'HeadersNotSigned'
  /** A path that is not valid percent-encoding, so what was signed and what is served could differ. */
  | 'InvalidUri'
  | 'SignatureDoesNotMatch';

export class SigV4Failure extends Error {
  constructor(
    readonly code: SigV4FailureCode,
    message: string,
    readonly detail: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'SigV4Failure';
  }
}

export interface SigV4Request {
  method: string;
  /** The path as sent, still percent-encoded. */
  path: string;
  /** The query string as sent, without the `?`. */
  querystring: string;
  /** A header's value, '' when absent (names are case-insensitive). */
  header(name: string): string;
  /** Every header name present, lower-case. */
  headerNames: string[];
}

/** A Node request as the check reads it: the path and query exactly as sent. */
export function incomingRequest(req: IncomingMessage): SigV4Request {
  const url = new URL(req.url ?? '/', 'http://localhost');
  return {
    method: req.method ?? 'GET',
    path: url.pathname,
    querystring: url.search.slice(1),
    header: (name) => {
      const value = req.headers[name.toLowerCase()];
      return Array.isArray(value) ? value.join(', ') : (value ?? '');
    },
    headerNames: Object.keys(req.headers),
  };
}

/** The whole body, or undefined once it passes `limit` bytes (read before the signature can be checked). */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export interface SigV4Options {
  credentials: LocalCredentials;
  service: string;
  region?: string;
  /**
   * `AWS4-ECDSA-P256-SHA256` (SigV4A, which the CloudFront KeyValueStore API requires): the scope names
   * no region (the signed `x-amz-region-set` header does) and the signature is ECDSA with the key pair
   * SigV4A derives from the secret. @default AWS4-HMAC-SHA256
   */
  algorithm?: typeof ALGORITHM | typeof ALGORITHM_V4A;
  /**
   * Hex SHA-256 of the body as the server read it, for services whose signature covers the body
   * (DynamoDB, SQS). S3 signs the declared `x-amz-content-sha256` instead (UNSIGNED-PAYLOAD for presigned
   * URLs); whether the body matches it is the S3 stand-in's own check.
   */
  bodySha256?: string;
  now?: number;
}

export interface VerifiedRequest {
  presigned: boolean;
  /** What the signature covers as the payload: a hex hash, UNSIGNED-PAYLOAD or a STREAMING-* marker. */
  payloadHash: string;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
const ALGORITHM_V4A = 'AWS4-ECDSA-P256-SHA256';
const PRESIGN_PARAMS = [
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature',
  'X-Amz-Date',
  'X-Amz-Expires',
] as const;

/** Throws SigV4Failure unless the request is signed by `options.credentials`; returns what was signed. */
export function verifySigV4Request(request: SigV4Request, options: SigV4Options): VerifiedRequest {
  const now = options.now ?? Date.now();
  const region = options.region ?? LOCAL_REGION;
  const algorithm = options.algorithm ?? ALGORITHM;
  const query = parseQuery(request.querystring);
  const authorization = request.header('authorization');
  const presigned = algorithm === ALGORITHM && query.some(([name]) => name === 'X-Amz-Algorithm');
  if (presigned && authorization) {
    throw new SigV4Failure(
      'TwoMechanisms',
      'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified',
    );
  }
  if (!presigned && !authorization.startsWith(`${algorithm} `)) {
    throw new SigV4Failure(
      'MissingAuthentication',
      authorization
        ? `The authorization mechanism you have provided is not supported. Please use ${algorithm}.`
        : 'Access Denied: the request carries no AWS Signature Version 4',
    );
  }
  const claim = presigned
    ? presignedClaim(query)
    : headerClaim(authorization, request.header('x-amz-date'), algorithm);
  const [accessKeyId = '', ...scope] = claim.credential.split('/');
  if (scope.length !== (algorithm === ALGORITHM ? 4 : 3) || scope.at(-1) !== 'aws4_request') {
    throw new SigV4Failure(
      'Malformed',
      'Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".',
    );
  }
  if (!sameText(accessKeyId, options.credentials.accessKeyId)) {
    throw new SigV4Failure(
      'InvalidAccessKeyId',
      'The AWS Access Key Id you provided does not exist in our records.',
      { AWSAccessKeyId: accessKeyId },
    );
  }
  const [date, scopeRegion, scopeService] = algorithm === ALGORITHM ? scope : [scope[0], region, scope[1]];
  if (date !== claim.amzDate.slice(0, 8) || scopeRegion !== region || scopeService !== options.service) {
    throw new SigV4Failure(
      'WrongScope',
      `The credential scope ${scope.join('/')} is not valid here: expecting ${claim.amzDate.slice(0, 8)}/${algorithm === ALGORITHM ? `${region}/` : ''}${options.service}/aws4_request`,
    );
  }
  checkTime(claim, presigned, now);

  const signedHeaders = claim.signedHeaders.split(';');
  if (algorithm === ALGORITHM_V4A) {
    const regionSet = request
      .header('x-amz-region-set')
      .split(',')
      .map((r) => r.trim());
    if (
      !signedHeaders.includes('x-amz-region-set') ||
      !(regionSet.includes('*') || regionSet.includes(region))
    ) {
      throw new SigV4Failure(
        'WrongScope',
        `A SigV4A signature must cover an x-amz-region-set naming ${region} or *`,
      );
    }
  }
  if (!signedHeaders.includes('host')) {
    throw new SigV4Failure('Malformed', "'Host' must be a 'SignedHeader' in the AWS Authorization.");
  }
  const payloadHash =
    options.bodySha256 ??
    (presigned
      ? (query.find(([name]) => name === 'X-Amz-Content-Sha256')?.[1] ?? 'UNSIGNED-PAYLOAD')
      : request.header('x-amz-content-sha256'));
  if (!payloadHash) {
    throw new SigV4Failure(
      'MissingPayloadHash',
      'Missing required header for this request: x-amz-content-sha256',
    );
  }
  if (options.service === 's3') {
    // S3 refuses x-amz-* headers the signature does not cover: a presigned URL's holder could otherwise
    // add tagging, copy sources or checksums that the signer never agreed to.
    const unsigned = request.headerNames.filter(
      (name) => name.startsWith('x-amz-') && !signedHeaders.includes(name),
    );
    if (unsigned.length > 0) {
      throw new SigV4Failure(
        'HeadersNotSigned',
        'There were headers present in the request which were not signed',
        {
          HeadersNotSigned: unsigned.join(', '),
        },
      );
    }
  }

  const canonicalRequest = [
    request.method,
    canonicalUri(request.path, options.service !== 's3'),
    canonicalQuery(presigned ? query.filter(([name]) => name !== 'X-Amz-Signature') : query),
    ...signedHeaders.map((name) => `${name}:${request.header(name).trim().replace(/\s+/g, ' ')}`),
    '',
    claim.signedHeaders,
    payloadHash,
  ].join('\n');
  const stringToSign = [algorithm, claim.amzDate, scope.join('/'), sha256Hex(canonicalRequest)].join('\n');
  if (!signatureHolds(algorithm, options.credentials, scope, stringToSign, claim.signature)) {
    throw new SigV4Failure(
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
      { AWSAccessKeyId: accessKeyId, SignatureProvided: claim.signature },
    );
  }
  return { presigned, payloadHash };
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
  const values = PRESIGN_PARAMS.map((name) => {
    const found = query.filter(([key]) => key === name);
    // A repeated auth parameter would be read one way here and maybe another way downstream.
    return found.length === 1 ? found[0]![1] : undefined;
  });
  const [algorithm, credential, signedHeaders, signature, amzDate, expires] = values;
  if (algorithm !== ALGORITHM) {
    throw new SigV4Failure('Malformed', 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
  }
  if (!credential || !signedHeaders || !signature || !amzDate || expires === undefined) {
    throw new SigV4Failure(
      'Malformed',
      'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
    );
  }
  return { credential, signedHeaders, signature, amzDate, expires };
}

function headerClaim(authorization: string, amzDate: string, algorithm: string): Claim {
  const fields = new Map(
    authorization
      .slice(`${algorithm} `.length)
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
    throw new SigV4Failure(
      'Malformed',
      'The authorization header is malformed; the authorization header requires three components: Credential, SignedHeaders, and Signature.',
    );
  }
  if (!amzDate) {
    throw new SigV4Failure('Malformed', 'AWS authentication requires a valid Date or x-amz-date header');
  }
  return { credential, signedHeaders, signature, amzDate };
}

/** Presigned URLs expire (at most a week after signing); header-signed requests may be 15 minutes off. */
function checkTime(claim: Claim, presigned: boolean, now: number): void {
  const signedAt = parseAmzDate(claim.amzDate);
  if (Number.isNaN(signedAt)) {
    throw new SigV4Failure(
      'Malformed',
      `X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`,
    );
  }
  const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+/, '');
  if (!presigned) {
    if (Math.abs(now - signedAt) > 15 * 60_000) {
      throw new SigV4Failure(
        'TimeTooSkewed',
        'The difference between the request time and the current time is too large.',
        { RequestTime: claim.amzDate, ServerTime: iso(now) },
      );
    }
    return;
  }
  const expires = Number(claim.expires);
  if (!/^\d+$/.test(claim.expires ?? '') || expires > 604_800) {
    throw new SigV4Failure(
      'Malformed',
      'X-Amz-Expires must be a non-negative number of seconds less than a week (604800 seconds)',
    );
  }
  const expiresAt = signedAt + expires * 1000;
  if (now > expiresAt) {
    throw new SigV4Failure('Expired', 'Request has expired', {
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

/**
 * Query parameters as sent, decoded exactly as the server behind the check decodes them (Node's
 * querystring, which Koa and so s3rver use: `+` is a space, a bad escape is kept as it is). Verifying
 * one reading of the query and serving another would let a signed URL be re-aimed.
 */
export function parseQuery(querystring: string): Array<[string, string]> {
  const decode = (text: string) => unescapeQuery(text.replaceAll('+', ' '));
  return querystring
    .split('&')
    .filter(Boolean)
    .map((pair) => {
      const at = pair.indexOf('=');
      return at === -1 ? [decode(pair), ''] : [decode(pair.slice(0, at)), decode(pair.slice(at + 1))];
    });
}

/**
 * S3 signs the path URI-encoded once, with no dot-segment normalisation; the other services encode it
 * twice. A segment that is not valid percent-encoding is refused: decoders downstream might read it
 * differently from the way it was signed.
 */
function canonicalUri(path: string, twice: boolean): string {
  return path
    .split('/')
    .map((segment) => {
      let decoded: string;
      try {
        decoded = decodeURIComponent(segment);
      } catch {
        throw new SigV4Failure('InvalidUri', "Couldn't parse the specified URI.", { URI: path });
      }
      return twice ? uriEncode(uriEncode(decoded)) : uriEncode(decoded);
    })
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

/** Code-unit order, which is byte order for the ASCII the encoded names are made of. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function signatureHolds(
  algorithm: string,
  credentials: LocalCredentials,
  scope: string[],
  stringToSign: string,
  signature: string,
): boolean {
  if (algorithm === ALGORITHM_V4A) {
    return (
      /^[0-9a-f]+$/.test(signature) &&
      verify(
        'sha256',
        Buffer.from(stringToSign),
        { key: sigV4aPublicKey(credentials), dsaEncoding: 'der' },
        Buffer.from(signature, 'hex'),
      )
    );
  }
  const signingKey = scope.reduce<Buffer | string>(
    (key, part) => hmac(key, part),
    `AWS4${credentials.secretAccessKey}`,
  );
  return sameText(hmac(signingKey, stringToSign).toString('hex'), signature);
}

/** P-256's group order n, minus 2: derived private scalars must not exceed it (SigV4A key derivation). */
const N_MINUS_TWO = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc63254f');
const v4aKeys = new Map<string, KeyObject>();

/**
 * SigV4A's signing key is derived from the secret: HMAC-SHA256 keyed with "AWS4A" + secret over a fixed
 * input (counter, algorithm, access key id, trial byte, length), retried until the value fits the curve's
 * order; the private scalar is that value plus one. Only the public key is kept (one per key pair).
 */
function sigV4aPublicKey({ accessKeyId, secretAccessKey }: LocalCredentials): KeyObject {
  const cacheKey = `${accessKeyId}\u0000${secretAccessKey}`;
  const cached = v4aKeys.get(cacheKey);
  if (cached) return cached;
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  for (let trial = 1; trial < 255; trial++) {
    const fixedInput = Buffer.concat([
      u32(1),
      Buffer.from(ALGORITHM_V4A),
      Buffer.from([0]),
      Buffer.from(accessKeyId),
      Buffer.from([trial]),
      u32(256),
    ]);
    const candidate = BigInt(
      `0x${createHmac('sha256', `AWS4A${secretAccessKey}`).update(fixedInput).digest('hex')}`,
    );
    if (candidate > N_MINUS_TWO) continue;
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(Buffer.from((candidate + 1n).toString(16).padStart(64, '0'), 'hex'));
    const point = ecdh.getPublicKey();
    const key = createPublicKey({
      key: {
        kty: 'EC',
        crv: 'P-256',
        x: point.subarray(1, 33).toString('base64url'),
        y: point.subarray(33).toString('base64url'),
      },
      format: 'jwk',
    });
    v4aKeys.set(cacheKey, key);
    return key;
  }
  throw new Error('could not derive a SigV4A key from these credentials');
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
