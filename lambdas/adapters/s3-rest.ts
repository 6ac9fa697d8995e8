import { createHash } from 'node:crypto';
import type { SignatureV4 } from '@smithy/signature-v4';
import { config } from '#shared/config.ts';
import { AwsServiceError, send, withRetries } from './signed-request.ts';
import { escapeUri, signerFor } from './sigv4.ts';

/**
 * The API routes' S3 calls (multipart create/list/complete/abort, HeadObject) and presigned URLs, one
 * SigV4-signed request each, without the S3 client: the SDK's S3 client, presigner and credential chain
 * were about 420 KB of every upload and caption function's bundle. Event workers keep the SDK client
 * (lambdas/adapters/aws.ts). S3 answers in XML; the few fields read here are taken with xmlValues.
 * Signed as the SDK signs for S3 (the path not escaped twice, the payload hash in x-amz-content-sha256;
 * presigned URLs with UNSIGNED-PAYLOAD): test/unit/presign.test.ts holds presigned URLs byte-identical to
 * the SDK's getSignedUrl, and the local S3 stand-in verifies every signature (local/s3.ts).
 *
 * Endpoints: virtual-hosted `https://<bucket>.s3.<region>.amazonaws.com/<key>` (the SDK's choice for
 * bucket names without dots, which CDK's generated names are), path-style on a stand-in (S3_ENDPOINT).
 */

export interface S3Target {
  bucket: string;
  /** The object key; none for bucket operations. */
  key?: string;
  query?: Record<string, string>;
}

interface Located {
  protocol: string;
  hostname: string;
  port?: number;
  host: string;
  path: string;
}

function locate({ bucket, key }: S3Target): Located {
  const { s3Endpoint, region } = config();
  const keyPath = key === undefined ? '/' : `/${key.split('/').map(escapeUri).join('/')}`;
  if (s3Endpoint) {
    const url = new URL(s3Endpoint);
    return {
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      host: url.host,
      path: `${url.pathname.replace(/\/$/, '')}/${bucket}${key === undefined ? '' : keyPath}`,
    };
  }
  const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  const hostname = `${bucket}.s3.${region}.${suffix}`;
  return { protocol: 'https:', hostname, host: hostname, path: keyPath };
}

let signer: SignatureV4 | undefined;
const s3Signer = () => {
  signer ??= signerFor('s3');
  return signer;
};

const queryString = (query: Record<string, string | string[] | null>) =>
  Object.keys(query)
    .sort()
    .flatMap((name) => {
      const value = query[name];
      return (Array.isArray(value) ? value : [value ?? '']).map((v) => `${escapeUri(name)}=${escapeUri(v)}`);
    })
    .join('&');

/**
 * A presigned URL for `method` on the object, valid `expiresIn` seconds; `signedHeaders` (such as
 * content-length) become part of the signature, so the browser must send exactly those values.
 */
export async function presignS3(
  method: 'GET' | 'PUT',
  target: S3Target,
  options: { expiresIn: number; signedHeaders?: Record<string, string>; signingDate?: Date },
): Promise<string> {
  const where = locate(target);
  const signedHeaders = options.signedHeaders ?? {};
  const presigned = await s3Signer().presign(
    {
      method,
      protocol: where.protocol,
      hostname: where.hostname,
      ...(where.port ? { port: where.port } : {}),
      path: where.path,
      query: { ...target.query },
      // The SDK presigner's spelling: the hoisted query parameter keeps it.
      headers: { host: where.host, 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD', ...signedHeaders },
    },
    {
      expiresIn: options.expiresIn,
      signableHeaders: new Set(Object.keys(signedHeaders)),
      unsignableHeaders: new Set(['content-type']),
      ...(options.signingDate ? { signingDate: options.signingDate } : {}),
    },
  );
  return `${where.protocol}//${where.host}${presigned.path}?${queryString(presigned.query ?? {})}`;
}

export interface S3Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** The body as text (S3's XML answers). */
  text: string;
}

/**
 * One S3 call; an error answer (any status >= 300, or a 200 whose body is an `<Error>`, as
 * CompleteMultipartUpload may send) throws AwsServiceError named by S3's code (`NoSuchUpload`...).
 */
export function s3Call(
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE',
  target: S3Target,
  options: { headers?: Record<string, string>; body?: string } = {},
): Promise<S3Answer> {
  return withRetries(async () => {
    const where = locate(target);
    const body = options.body;
    const signed = await s3Signer().sign({
      method,
      protocol: where.protocol,
      hostname: where.hostname,
      ...(where.port ? { port: where.port } : {}),
      path: where.path,
      query: { ...target.query },
      headers: {
        host: where.host,
        'x-amz-content-sha256': createHash('sha256')
          .update(body ?? '')
          .digest('hex'),
        ...options.headers,
      },
      ...(body === undefined ? {} : { body }),
    });
    const query = queryString(target.query ?? {});
    const url = new URL(`${where.protocol}//${where.host}${where.path}${query ? `?${query}` : ''}`);
    const sent = await send(url, method, signed.headers, body);
    const answer = { ...sent, text: sent.body.toString('utf8') };
    // CompleteMultipartUpload may answer 200 with an <Error> body (POST answers are S3's own XML).
    const error =
      answer.status >= 300 || (method === 'POST' && /^\s*(<\?xml[^>]*>\s*)?<Error>/.test(answer.text));
    if (!error) return answer;
    const [code] = xmlValues(answer.text, 'Code');
    const [message] = xmlValues(answer.text, 'Message');
    const name = code ?? (answer.status === 404 ? 'NotFound' : `Http${answer.status}`);
    // A 200 carrying an error is a server-side failure (S3 documents it as retryable).
    throw new AwsServiceError(
      name,
      message ?? `S3 ${method} failed with ${answer.status}`,
      answer.status >= 300 ? answer.status : 500,
    );
  });
}

/** The text of every `<tag>` element in `xml` (S3's answers: no attributes on these, no CDATA). */
export function xmlValues(xml: string, tag: string): string[] {
  const found: string[] = [];
  const pattern = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g');
  for (let match = pattern.exec(xml); match; match = pattern.exec(xml)) found.push(xmlDecode(match[1]!));
  return found;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function xmlDecode(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (whole, entity: string) => {
    if (entity[0] === '#') {
      const code =
        entity[1] === 'x' || entity[1] === 'X'
          ? Number.parseInt(entity.slice(2), 16)
          : Number(entity.slice(1));
      return String.fromCodePoint(code);
    }
    return ENTITIES[entity] ?? whole;
  });
}

export function xmlEscape(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[c]};`,
  );
}

/** An object's size in bytes, or undefined when there is no such object (HeadObject). */
export async function headObjectSize(bucket: string, key: string): Promise<number | undefined> {
  try {
    const answer = await s3Call('HEAD', { bucket, key });
    return Number(answer.headers['content-length']);
  } catch (error) {
    if (error instanceof AwsServiceError && error.statusCode === 404) return undefined;
    throw error;
  }
}
