/**
 * bench/presign: presign the UploadPart URLs of a 10,000-part upload, our way (each URL signed locally
 * by @smithy/signature-v4, as S3MultipartStorage does through lambdas/adapters/s3-rest.ts) against the SDK's
 * `getSignedUrl` with one shared client (the fair baseline: what anyone would write), side by side in one
 * process, signing the same URLs in the same batches. Prints URLs/s for each and the ratio. No network:
 * presigning is local. It needs no database, whatever DATABASE_URL says.
 *
 *   npx tsx bench/presign.ts [parts=10000]
 */

import { monitorEventLoopDelay } from 'node:perf_hooks';

Object.assign(process.env, {
  AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  UPLOADS_BUCKET: 'videocloud-uploads-bench',
  MEDIA_BUCKET: 'videocloud-media-bench',
  STATE_TABLE: 'videocloud-state-bench',
  COGNITO_USER_POOL_ID: 'us-east-1_bench',
  COGNITO_CLIENT_ID: 'bench',
  AWS_REGION: 'eu-west-1',
});
const { S3MultipartStorage } = await import('#adapters/multipart.ts');
const { sdkSignPart } = await import('#test/helpers/sdk-presign.ts');

const parts = Number(process.argv[2] ?? 10_000);
const partSize = 64 * 1024 * 1024;
const key = 'uploads/0b4f6f0e-2a4e-4a3e-9a7e-8f8a2f9b1c3d/source';
const uploadId = 'bench-upload-id';

const storage = new S3MultipartStorage();
type Sign = (partNumber: number, signingDate?: Date) => Promise<string>;
const ours: Sign = (n, signingDate) => storage.signPart(key, uploadId, n, partSize, 3600, signingDate);
const sdk: Sign = (n, signingDate) => sdkSignPart(key, uploadId, n, partSize, 3600, signingDate);

// Same work on both sides: the same URL, byte for byte.
const sameDate = new Date('2026-01-01T00:00:00Z');
for (const n of [1, 5000]) {
  if ((await ours(n, sameDate)) !== (await sdk(n, sameDate))) throw new Error(`part ${n}: the URLs differ`);
}

/** Signed in batches of 100, exactly as POST /v1/uploads/{id}/parts does. */
async function signAll(sign: Sign, count: number): Promise<string[]> {
  const urls: string[] = [];
  for (let start = 1; start <= count; start += 100) {
    const batch = Array.from({ length: Math.min(100, count - start + 1) }, (_, i) => start + i);
    urls.push(...(await Promise.all(batch.map((n) => sign(n)))));
  }
  return urls;
}

async function measure(name: string, sign: Sign, count: number) {
  const run = (n: number) => signAll(sign, n);
  await run(Math.min(200, count)); // warm up: module init, JIT
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const started = performance.now();
  const urls = await run(count);
  const seconds = (performance.now() - started) / 1000;
  delay.disable();
  if (new Set(urls).size !== count) throw new Error(`${name}: expected ${count} distinct URLs`);
  return { name, urlsPerSecond: count / seconds, seconds, maxLoopBlockMs: delay.max / 1e6 };
}

const baselineCount = Math.min(parts, 5_000); // the slower arm; its rate is what matters
const results = [
  await measure('ours (signed locally)', ours, parts),
  await measure('getSignedUrl, one client', sdk, baselineCount),
];
console.log(`presign: ${parts} UploadPart URLs (baseline measured over ${baselineCount})`);
for (const r of results) {
  console.log(
    `  ${r.name.padEnd(26)} ${Math.round(r.urlsPerSecond).toString().padStart(7)} URLs/s   ${r.seconds.toFixed(2)} s   longest event-loop block ${r.maxLoopBlockMs.toFixed(1)} ms`,
  );
}
console.log(
  `  ratio ours / getSignedUrl: ${(results[0]!.urlsPerSecond / results[1]!.urlsPerSecond).toFixed(1)}x (target >= 10,000 URLs/s)`,
);
