import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { config } from '#shared/config.ts';

/**
 * SigV4 without an AWS SDK client: the SDK's own signer (@smithy/signature-v4) on node:crypto, with the
 * credentials Lambda puts in the environment. Used where a whole SDK client would be most of a function's
 * bundle for one or two calls (aws-json.ts: DynamoDB and SQS; the RDS IAM token in db/connection.ts).
 */

/** SHA-256 (HMAC-SHA-256 when given a key) for the signer, on node:crypto. */
class NodeSha256 {
  private hash: Hash | Hmac;

  constructor(private readonly secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = this.fresh();
  }

  update(data: string | Uint8Array): void {
    this.hash.update(data);
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }

  reset(): void {
    this.hash = this.fresh();
  }

  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(this.secret));
  }
}

function toBuffer(data: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/**
 * The credentials Lambda gives the function (its execution role's) in the environment, as the SDK's
 * first credential provider reads them; the local runtime sets the same variables.
 */
export function environmentCredentials() {
  const accessKeyId = process.env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = process.env.AWS_SECRET_ACCESS_KEY;
  const sessionToken = process.env.AWS_SESSION_TOKEN;
  if (!accessKeyId || !secretAccessKey) {
    throw new Error('No AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set');
  }
  return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
}

/**
 * A SigV4 signer for one service in the configured region. S3 signs the path as sent (`uriEscapePath`
 * false, as the SDK's S3 client does); every other service escapes it once more.
 */
export function signerFor(service: string, region = config().region): SignatureV4 {
  return new SignatureV4({
    service,
    region,
    credentials: async () => environmentCredentials(),
    sha256: NodeSha256,
    uriEscapePath: service !== 's3',
  });
}

/**
 * An RDS IAM authentication token for `user` at `host:port`: a SigV4 presigned `connect` request to
 * `rds-db`, valid 15 minutes, written as @aws-sdk/rds-signer writes it (host:port/?query, no scheme).
 * A local computation, no network. A unit test holds it byte-identical to the SDK signer's.
 */
export async function rdsAuthToken(target: { host: string; port: number; user: string; region: string }) {
  const presigned = await signerFor('rds-db', target.region).presign(
    {
      method: 'GET',
      protocol: 'https:',
      hostname: target.host,
      port: target.port,
      path: '/',
      query: { Action: 'connect', DBUser: target.user },
      headers: { host: `${target.host}:${target.port}` },
    },
    { expiresIn: 900 },
  );
  const query = Object.keys(presigned.query ?? {})
    .sort()
    .map((name) => `${escapeUri(name)}=${escapeUri(String(presigned.query![name]))}`)
    .join('&');
  return `${target.host}:${target.port}/?${query}`;
}

/** RFC 3986 percent-encoding, as SigV4 and the SDK's query builder use it. */
export const escapeUri = (value: string) =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
