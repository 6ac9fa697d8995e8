/**
 * bench/presign: presign the UploadPart URLs of a 10,000-part upload, our way (one presigning client
 * built once, as S3MultipartStorage does) against a naive baseline (a new S3Client per URL), side by
 * side in one process. Prints URLs/s for each and the ratio. No network: presigning is local.
 *
 *   npx tsx bench/presign.ts [parts=10000]
 */

import { monitorEventLoopDelay } from 'node:perf_hooks';
import { S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

Object.assign(process.env, {
  AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  UPLOADS_BUCKET: 'videocloud-uploads-bench',
  MEDIA_BUCKET: 'videocloud-media-bench',
  STATE_TABLE: 'videocloud-state-bench',
  PGLITE_DATA_DIR: '/tmp/unused',
  COGNITO_USER_POOL_ID: 'us-east-1_bench',
  COGNITO_CLIENT_ID: 'bench',
  AWS_REGION: 'eu-west-1',
});
const { S3MultipartStorage } = await import('#adapters/multipart.ts');

const parts = Number(process.argv[2] ?? 10_000);
const partSize = 64 * 1024 * 1024;
const key = 'uploads/0b4f6f0e-2a4e-4a3e-9a7e-8f8a2f9b1c3d/source';
const uploadId = 'bench-upload-id';

async function ours(count: number): Promise<string[]> {
  const storage = new S3MultipartStorage();
  const urls: string[] = [];
  // Signed in batches of 100, exactly as POST /v1/uploads/{id}/parts does.
  for (let start = 1; start <= count; start += 100) {
    const batch = Array.from({ length: Math.min(100, count - start + 1) }, (_, i) => start + i);
    urls.push(...(await Promise.all(batch.map((n) => storage.signPart(key, uploadId, n, partSize, 3600)))));
  }
  return urls;
}

async function naive(count: number): Promise<string[]> {
  const urls: string[] = [];
  for (let n = 1; n <= count; n++) {
    const client = new S3Client({ region: 'eu-west-1' });
    urls.push(
      await getSignedUrl(
        client,
        new UploadPartCommand({
          Bucket: 'videocloud-uploads-bench',
          Key: key,
          UploadId: uploadId,
          PartNumber: n,
        }),
        { expiresIn: 3600 },
      ),
    );
  }
  return urls;
}

async function measure(name: string, run: (count: number) => Promise<string[]>, count: number) {
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

const baselineCount = Math.min(parts, 2_000); // the naive arm is slow; its rate is what matters
const results = [
  await measure('ours (shared client)', ours, parts),
  await measure('naive (client per URL)', naive, baselineCount),
];
console.log(`presign: ${parts} UploadPart URLs (baseline measured over ${baselineCount})`);
for (const r of results) {
  console.log(
    `  ${r.name.padEnd(24)} ${Math.round(r.urlsPerSecond).toString().padStart(7)} URLs/s   ${r.seconds.toFixed(2)} s   longest event-loop block ${r.maxLoopBlockMs.toFixed(1)} ms`,
  );
}
console.log(
  `  ratio ours / naive: ${(results[0]!.urlsPerSecond / results[1]!.urlsPerSecond).toFixed(1)}x (target >= 10x, >= 10,000 URLs/s)`,
);
