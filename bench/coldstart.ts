/**
 * `npm run bench coldstart`: the real synthesized API function bundles (the cdk.out asset directories),
 * per function: bundle size (minified index.mjs, source map not counted), and the CPU it takes to import
 * the module, side by side with an empty handler imported the same way in the same kind of process.
 * Each import runs in a fresh `node` with the function's NODE_OPTIONS from the template (as in Lambda)
 * and a placeholder configuration; the median of the runs is printed.
 *
 *   tsx bench/coldstart.ts [--cdk-out DIR] [--runs N] [--baseline DIR]
 *
 * Without --cdk-out it reads ./cdk.out, synthesizing the dev stage there first when it is missing.
 * --baseline names another synthesized app (say, an earlier commit's `cdk.out`): each of its functions of
 * the same name is imported in the same runs, interleaved with this app's and the empty handler's, and the
 * change is printed as a ratio, so both sides see the same machine load (on a shared 2-core machine the
 * same bundle measures 55-100 ms minutes apart; only a side-by-side figure compares).
 * Goals (issue 14): bundle <= 250 KB, import <= 40 ms of CPU over the empty handler.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const BUNDLE_BUDGET_KB = 250;
const IMPORT_BUDGET_MS = 40;

const args = process.argv.slice(2);
const option = (name: string) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const root = fileURLToPath(new URL('../', import.meta.url));
const cdkOut = resolve(option('--cdk-out') ?? join(root, 'cdk.out'));
const runs = Number(option('--runs') ?? 5);
const baselineOut = option('--baseline') && resolve(option('--baseline')!);
if (baselineOut && !existsSync(join(baselineOut, 'manifest.json'))) {
  console.error(`--baseline ${baselineOut} holds no synthesized app (manifest.json)`);
  process.exit(2);
}

if (!existsSync(join(cdkOut, 'manifest.json'))) {
  console.log(`no synthesized app in ${cdkOut}; synthesizing the dev stage there (about a minute)`);
  const synth = spawnSync('npx', ['cdk', 'synth', '--all', '--quiet', '-c', 'stage=dev', '-o', cdkOut], {
    cwd: root,
    stdio: 'inherit',
  });
  if (synth.status !== 0) process.exit(synth.status ?? 1);
}

interface Bundle {
  name: string;
  dir: string;
  env: Record<string, string>;
}

/** Every API function of every template: its route-table entry, asset directory and plain env values. */
function apiBundles(cdkOut: string): Bundle[] {
  const bundles: Bundle[] = [];
  for (const file of readdirSync(cdkOut).filter((name) => name.endsWith('.template.json'))) {
    const template = JSON.parse(readFileSync(join(cdkOut, file), 'utf8'));
    type Resource = {
      Type: string;
      Metadata?: Record<string, string>;
      Properties?: { Environment?: { Variables?: Record<string, unknown> } };
    };
    for (const resource of Object.values<Resource>(template.Resources ?? {})) {
      if (resource.Type !== 'AWS::Lambda::Function') continue;
      const path: string = resource.Metadata?.['aws:cdk:path'] ?? '';
      const asset: string | undefined = resource.Metadata?.['aws:asset:path'];
      const match = /\/Api\/Fn([A-Za-z0-9]+)\/Function\//.exec(path);
      if (!match || !asset) continue;
      const variables: Record<string, unknown> = resource.Properties?.Environment?.Variables ?? {};
      const env = Object.fromEntries(
        Object.entries(variables).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
      );
      bundles.push({ name: match[1]!, dir: join(cdkOut, asset), env });
    }
  }
  return bundles.sort((a, b) => a.name.localeCompare(b.name));
}

/** Placeholders for what the template holds as references (bucket names, the proxy host...). */
const PLACEHOLDER_ENV: Record<string, string> = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  DB_PROXY_HOST: 'proxy.bench.invalid',
  UPLOADS_BUCKET: 'bench-uploads',
  MEDIA_BUCKET: 'bench-media',
  STATE_TABLE: 'bench-state',
  COGNITO_USER_POOL_ID: 'us-east-1_Bench123',
  COGNITO_CLIENT_ID: 'bench',
  MEDIA_BASE_URL: 'https://media.bench.invalid',
  PLAYBACK_KEY_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:bench',
  LOG_LEVEL: 'ERROR',
};

/**
 * CPU milliseconds (user + system) one fresh process spends importing `file`, in a process like the one
 * Lambda imports a handler in: its Node.js runtime interface client has loaded `node:http` already (it
 * talks to the Runtime API with it: aws-lambda-nodejs-runtime-interface-client, src/client/rapid-client.ts,
 * `cjsRequire("node:http")` at module load), so a handler's own first load of it is not counted, for the
 * function as for the empty handler.
 */
function importCpuMs(file: string, env: Record<string, string>): number {
  const probe =
    "await import('node:http');" +
    'const t=process.cpuUsage();' +
    `await import(${JSON.stringify(`file://${file}`)});` +
    'const d=process.cpuUsage(t);process.stdout.write(String((d.user+d.system)/1000));';
  const { NODE_OPTIONS: nodeOptions, ...rest } = env;
  const result = spawnSync(
    process.execPath,
    [...(nodeOptions ? nodeOptions.split(' ') : []), '--input-type=module', '-e', probe],
    { env: { PATH: process.env.PATH, ...PLACEHOLDER_ENV, ...rest }, encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`importing ${file} failed:\n${result.stderr}`);
  return Number(result.stdout);
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

const emptyDir = mkdtempSync(join(tmpdir(), 'videocloud-coldstart-'));
const emptyFile = join(emptyDir, 'index.mjs');
writeFileSync(emptyFile, 'export const handler = async () => ({ statusCode: 200, body: "" });\n');

const bundles = apiBundles(cdkOut);
if (bundles.length === 0) {
  console.error(`no API function bundles found in ${cdkOut}`);
  process.exit(1);
}
const baseline = new Map((baselineOut ? apiBundles(baselineOut) : []).map((bundle) => [bundle.name, bundle]));
const kbOf = (bundle: Bundle) => statSync(join(bundle.dir, 'index.mjs')).size / 1024;

console.log(
  `${bundles.length} API functions from ${cdkOut}, median of ${runs} fresh imports each` +
    (baselineOut ? `, side by side with ${baselineOut} (${baseline.size} functions)` : ''),
);
console.log(
  `${'function'.padEnd(26)} ${'bundle KB'.padStart(9)} ${'import ms'.padStart(9)} ${'empty ms'.padStart(8)} ${'over'.padStart(7)}` +
    (baselineOut ? `  ${'base KB'.padStart(7)} ${'base over'.padStart(9)} ${'ratio'.padStart(6)}` : ''),
);
let worstKb = 0;
let worstOver = 0;
const overs: number[] = [];
const ratios: number[] = [];
for (const bundle of bundles) {
  const file = join(bundle.dir, 'index.mjs');
  const base = baseline.get(bundle.name);
  const kb = kbOf(bundle);
  const imported: number[] = [];
  const baseImported: number[] = [];
  const empty: number[] = [];
  // Interleaved, so all of them see the same machine load.
  for (let run = 0; run < runs; run++) {
    imported.push(importCpuMs(file, bundle.env));
    if (base) baseImported.push(importCpuMs(join(base.dir, 'index.mjs'), base.env));
    empty.push(importCpuMs(emptyFile, bundle.env));
  }
  const over = median(imported) - median(empty);
  worstKb = Math.max(worstKb, kb);
  worstOver = Math.max(worstOver, over);
  overs.push(over);
  let side = '';
  if (base) {
    const baseOver = median(baseImported) - median(empty);
    ratios.push(over / baseOver);
    side = `  ${kbOf(base).toFixed(0).padStart(7)} ${baseOver.toFixed(1).padStart(9)} ${(over / baseOver).toFixed(2).padStart(6)}`;
  } else if (baselineOut) side = '  (not in the baseline)';
  console.log(
    `${bundle.name.padEnd(26)} ${kb.toFixed(0).padStart(9)} ${median(imported).toFixed(1).padStart(9)} ${median(empty).toFixed(1).padStart(8)} ${over.toFixed(1).padStart(7)}${side}`,
  );
}
const verdict = (ok: boolean) => (ok ? 'within goal' : 'OVER GOAL');
console.log(
  `largest bundle ${worstKb.toFixed(0)} KB (goal <= ${BUNDLE_BUDGET_KB}: ${verdict(worstKb <= BUNDLE_BUDGET_KB)}); ` +
    `slowest import ${worstOver.toFixed(1)} ms over empty (goal <= ${IMPORT_BUDGET_MS}: ${verdict(worstOver <= IMPORT_BUDGET_MS)}); ` +
    `median over the functions ${median(overs).toFixed(1)} ms` +
    (ratios.length ? `; median ratio to the baseline ${median(ratios).toFixed(2)}` : ''),
);
