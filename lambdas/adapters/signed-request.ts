import http from 'node:http';
import https from 'node:https';

/**
 * Sending the signed requests of aws-json.ts and s3-rest.ts: keep-alive connections, a timeout, the
 * services' error answers as AwsServiceError, and the SDK's standard retry mode (up to 3 attempts for
 * throttling, 5xx and broken connections, with jittered backoff).
 */

/** An error answer of an AWS service: `name` is the error code (`ConditionalCheckFailedException`, `NoSuchUpload`...). */
export class AwsServiceError extends Error {
  constructor(
    name: string,
    message: string,
    readonly statusCode: number,
  ) {
    super(message);
    this.name = name;
  }

  get retryable(): boolean {
    return this.statusCode >= 500 || THROTTLING.has(this.name) || this.name === 'InternalError';
  }
}

const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'LimitExceededException',
  'SlowDown',
]);

const MAX_ATTEMPTS = 3;
const TIMEOUT_MS = 10_000;

/** Runs `attempt` until it succeeds, fails for good, or has been tried MAX_ATTEMPTS times. */
export async function withRetries<T>(attempt: () => Promise<T>): Promise<T> {
  for (let tried = 1; ; tried++) {
    try {
      return await attempt();
    } catch (error) {
      const retryable =
        error instanceof AwsServiceError
          ? error.retryable
          : (error as NodeJS.ErrnoException).code !== undefined; // ECONNRESET, ETIMEDOUT...
      if (!retryable || tried >= MAX_ATTEMPTS) throw error;
      // Full jitter over 100 ms, then 200 ms.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 100 * 2 ** (tried - 1)));
    }
  }
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

const agents = {
  http: new http.Agent({ keepAlive: true }),
  https: new https.Agent({ keepAlive: true }),
};

/** One HTTP request with the signed headers, its whole answer read. */
export function send(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body?: string,
): Promise<Answer> {
  const plain = url.protocol === 'http:';
  const transport = plain ? http : https;
  return new Promise((resolve, reject) => {
    const request = transport.request(
      url,
      {
        method,
        headers:
          body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        agent: plain ? agents.http : agents.https,
        timeout: TIMEOUT_MS,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks),
          }),
        );
        response.on('error', reject);
      },
    );
    request.on('timeout', () =>
      request.destroy(Object.assign(new Error(`no answer within ${TIMEOUT_MS} ms`), { code: 'ETIMEDOUT' })),
    );
    request.on('error', reject);
    request.end(body);
  });
}
