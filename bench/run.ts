/**
 * `npm run bench [name...]`: runs the benchmarks one after another (each prints its own ratios against
 * the baseline it runs side by side). With no names, runs them all.
 *   presign    10,000 part URLs: ours vs the SDK's getSignedUrl with one shared client
 *   catalog    100,000 videos in Postgres (DATABASE_URL): keyset vs OFFSET, get-by-id, common/rare-term search
 *   transcode           chunked jobs vs one plain ffmpeg command (CPU, PSNR, bytes, wall, cloud critical path)
 *   transcode-pipeline  a generated 60 s 1080p clip: the whole local pipeline vs one plain ffmpeg command
 *   coldstart  the synthesized API function bundles (cdk.out): size, and import CPU vs an empty handler
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const all = ['presign', 'catalog', 'transcode', 'transcode-pipeline', 'coldstart'];
const chosen = process.argv.slice(2).length ? process.argv.slice(2) : all;
let failed = false;
for (const name of chosen) {
  const file = new URL(`./${name}.ts`, import.meta.url).pathname;
  if (!existsSync(file)) {
    console.error(`no benchmark named ${name} (have: ${all.join(', ')})`);
    failed = true;
    continue;
  }
  console.log(`\n== bench/${name}`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', file], {
    stdio: 'inherit',
  });
  failed ||= result.status !== 0;
}
process.exit(failed ? 1 : 0);
