/**
 * `npm start` as a developer meets it, in child processes: requests that arrive while the runtime is still
 * wiring its configuration get a 503 and poison nothing (it used to import a handler before its
 * environment existed, keep the failed import, and report "started but is not healthy"); a second runtime
 * on the same data dir stops at once, naming the first (it used to crash with "Database is closed");
 * after kill -9 the next start takes over the stale lock, empties the killed one's scratch space and comes
 * up healthy; and killing the launcher
 * with -9 leaves no server behind (npm -> sh -> tsx -> node used to keep serving the port).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { until } from '#test/helpers/eventually.ts';
import { descendants, freePort, isAlive, type Launched, launch, portClosed } from '#test/helpers/launcher.ts';

const linux = process.platform === 'linux' ? describe : describe.skip;

linux('the local launcher', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'launcher-'));
  const launched: Launched[] = [];
  const start = (how: 'npm' | 'node', port?: number) => {
    const runtime = launch({ dataDir, how, port });
    launched.push(runtime);
    return runtime;
  };
  afterAll(() => {
    for (const runtime of launched) runtime.killGroup();
    rmSync(dataDir, { recursive: true, force: true });
  });

  let first: Launched;
  let firstPort: number;

  it('answers requests during boot with a 503 problem (Retry-After) and comes up healthy', async () => {
    firstPort = await freePort();
    first = start('node', firstPort);
    const answers: Array<{ status: number; type: string | null; retryAfter: string | null; body: string }> =
      [];
    let url: string | undefined;
    // As fast as it will answer, from the moment it listens until it says it is ready.
    while (!url) {
      try {
        const response = await fetch(`http://127.0.0.1:${firstPort}/v1/health`);
        answers.push({
          status: response.status,
          type: response.headers.get('content-type'),
          retryAfter: response.headers.get('retry-after'),
          body: await response.text(),
        });
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      url = /VideoCloud local ready at (http:\/\/\S+)/.exec(first.output())?.[1];
      if (!url && !isAlive(first.pid)) throw new Error(`the runtime exited:\n${first.output()}`);
    }
    expect(first.output()).not.toMatch(/not healthy/);
    const early = answers.filter((a) => a.status !== 200);
    // The race was run: something reached the gateway before the runtime was wired.
    expect(early.length).toBeGreaterThan(0);
    for (const answer of early) {
      expect(answer).toMatchObject({ status: 503, type: 'application/problem+json', retryAfter: '1' });
      expect(JSON.parse(answer.body)).toMatchObject({ status: 503, title: 'Service unavailable' });
    }
    const health = await fetch(`${url}/v1/health`);
    expect(health.status).toBe(200);
  }, 90_000);

  /** What a worker of the runtime on `dataDir` has in its scratch space (TMPDIR) mid-transcode. */
  const scratchFile = () => {
    const dir = path.join(dataDir, 'tmp', 'transcode-in-flight');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'seg_00000.m4s'), 'segment');
    return path.join(dir, 'seg_00000.m4s');
  };

  it('a second runtime on the same data dir stops at once, naming the first', async () => {
    const inFlight = scratchFile();
    const second = start('node');
    const { code } = await second.exited;
    expect(code).toBe(1);
    expect(second.output()).toContain(
      `The data dir ${dataDir} is in use by another VideoCloud runtime (pid ${first.pid})`,
    );
    expect(second.output()).not.toMatch(/Database is closed/);
    // The first one never noticed, and its scratch space is as it left it.
    expect((await fetch(`http://127.0.0.1:${firstPort}/v1/health`)).status).toBe(200);
    expect(existsSync(inFlight)).toBe(true);
  }, 60_000);

  it('after kill -9, npm start on the same data dir comes up healthy; kill -9 of npm leaves no server', async () => {
    process.kill(first.pid, 'SIGKILL');
    await until(() => portClosed(firstPort), {
      timeoutMs: 10_000,
      what: 'the killed runtime to stop answering',
    });

    const leftBehind = scratchFile();
    const again = start('npm');
    const url = await again.ready(90_000);
    expect((await fetch(`${url}/v1/health`)).status).toBe(200);
    // What the killed runtime's workers left in their scratch space is nobody's now: emptied at start.
    expect(existsSync(leftBehind)).toBe(false);
    const port = Number(new URL(url).port);
    const below = descendants(again.pid);
    expect(below.length).toBeGreaterThan(0);

    process.kill(again.pid, 'SIGKILL'); // npm itself, not its group
    await until(() => portClosed(port), {
      timeoutMs: 15_000,
      what: 'the port to close after its launcher died',
    });
    await until(() => below.every((pid) => !isAlive(pid)), {
      timeoutMs: 15_000,
      what: 'every process below the launcher to exit with it',
    });
  }, 120_000);
});
