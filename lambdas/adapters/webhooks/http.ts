import { lookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { parseWebhookUrl, refuseAddresses, type UrlPolicy } from '#core/webhook-url.ts';
import { DELIVERY_TIMEOUT_MS, RESPONSE_EXCERPT_CHARS, RESPONSE_READ_BYTES } from '#core/webhooks.ts';

/**
 * One POST to a webhook endpoint, the SSRF-safe way: the URL is checked (core/webhook-url.ts), the host
 * is resolved here and every address it has must be allowed, and the connection goes to the address
 * that was checked (a pinned lookup: nothing resolves the name a second time, so a DNS answer that
 * changes between the check and the connect cannot steer the request). TLS still verifies the name
 * (SNI and the certificate check use it) and the Host header carries it. Redirects are not followed
 * (a 3xx is a failed attempt), at most RESPONSE_READ_BYTES of the answer are read, and the whole
 * exchange has DELIVERY_TIMEOUT_MS.
 */
export interface PostOutcome {
  succeeded: boolean;
  statusCode: number | null;
  latencyMs: number | null;
  responseExcerpt: string | null;
  error: string | null;
}

/** Every address of a host name (A and AAAA), or [] when it does not resolve. */
export async function resolveHost(host: string): Promise<string[]> {
  try {
    return (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);
  } catch {
    return [];
  }
}

export async function postWebhook(
  target: { url: string; body: string; headers: Record<string, string> },
  policy: UrlPolicy,
  resolve: (host: string) => Promise<string[]> = resolveHost,
): Promise<PostOutcome> {
  const refused = (message: string): PostOutcome => ({
    succeeded: false,
    statusCode: null,
    latencyMs: null,
    responseExcerpt: null,
    error: message,
  });
  const parsed = parseWebhookUrl(target.url, policy);
  if (!parsed.ok) return refused(`refused (rule "${parsed.refusal.rule}"): ${parsed.refusal.message}`);
  const { url, host, literal } = parsed.value;
  const addresses = literal ? [host] : await resolve(host);
  const refusal = refuseAddresses(url, addresses, policy);
  if (refusal) return refused(`refused (rule "${refusal.rule}"): ${refusal.message}`);
  const address = addresses[0]!;
  const family = isIP(address);
  const pinned: LookupFunction = (_hostname, options, callback) => {
    if (options.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  };

  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  return new Promise<PostOutcome>((settle) => {
    let done = false;
    const finish = (outcome: PostOutcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      request.destroy();
      settle(outcome);
    };
    const transport = url.protocol === 'https:' ? https : http;
    const request = transport.request(
      {
        protocol: url.protocol,
        host,
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        lookup: pinned,
        agent: false,
        ...(url.protocol === 'https:' && !literal ? { servername: host } : {}),
        headers: {
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(target.body)),
          'user-agent': 'VideoCloud-Webhooks/1',
          ...target.headers,
        },
      },
      (response) => {
        const status = response.statusCode ?? 0;
        const chunks: Buffer[] = [];
        let read = 0;
        const conclude = () => {
          const excerpt = Buffer.concat(chunks).subarray(0, RESPONSE_READ_BYTES).toString('utf8');
          const ok = status >= 200 && status < 300;
          finish({
            succeeded: ok,
            statusCode: status,
            latencyMs: elapsed(),
            responseExcerpt: excerpt ? excerpt.slice(0, RESPONSE_EXCERPT_CHARS) : null,
            error: ok
              ? null
              : status >= 300 && status < 400
                ? `answered ${status}; redirects are not followed`
                : `answered ${status}`,
          });
        };
        response.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          read += chunk.length;
          if (read >= RESPONSE_READ_BYTES) conclude();
        });
        response.on('end', conclude);
        response.on('error', conclude);
      },
    );
    const timer = setTimeout(
      () => finish({ ...refused(`no answer within ${DELIVERY_TIMEOUT_MS / 1000} s`), latencyMs: elapsed() }),
      DELIVERY_TIMEOUT_MS,
    );
    request.on('error', (error: NodeJS.ErrnoException) =>
      finish({ ...refused(`could not deliver: ${error.code ?? error.message}`), latencyMs: elapsed() }),
    );
    request.end(target.body);
  });
}
