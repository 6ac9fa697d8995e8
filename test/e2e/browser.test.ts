import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { RUNTIME_START_MS, startTestRuntime, type TestRuntime } from '#test/helpers/runtime.ts';
import { buildWeb, isStale } from '../../web/build.ts';

/**
 * The browser client end to end, in Debian's Chromium (never a downloaded browser) against the whole
 * local stack: sign in, upload a real video through the page with Uppy's multipart upload, watch the
 * progress reach 100 %, follow the status to ready, play it with hls.js (its default loader) from the playback URL, and check
 * that another user cannot see it while it is private. A second test interrupts an upload with a page
 * reload and resumes it from the parts storage already has.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const RESULTS = join(process.cwd(), 'test-results');
const READY_TIMEOUT_MS = 180_000;

/** Every control on the page has an accessible name (per Chromium's accessibility tree). */
async function expectNamedControls(page: Page): Promise<void> {
  const tree = await page.locator('body').ariaSnapshot();
  const unnamed = tree
    .split('\n')
    .filter((line) =>
      /^\s*- (button|link|textbox|searchbox|combobox|checkbox|radio|slider|progressbar|spinbutton)\s*(\[.*\])?:?\s*$/.test(
        line,
      ),
    );
  expect(unnamed).toEqual([]);
}

const visible = (locator: Locator, timeout = 15_000) =>
  locator.first().waitFor({ state: 'visible', timeout });

describe('browser client', () => {
  let runtime: TestRuntime;
  let browser: Browser;
  let workDir: string;
  let clip: string;

  beforeAll(async () => {
    if (isStale()) await buildWeb();
    workDir = mkdtempSync(join(tmpdir(), 'videocloud-browser-'));
    mkdirSync(RESULTS, { recursive: true });
    clip = join(workDir, 'browser-clip.mp4');
    // A real 6-second H.264/AAC video, made here so the test needs no fixture.
    execFileSync('ffmpeg', [
      ...['-hide_banner', '-loglevel', 'error', '-y'],
      ...['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30'],
      ...['-f', 'lavfi', '-i', 'sine=frequency=440'],
      ...['-t', '6', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', clip],
    ]);
    runtime = await startTestRuntime();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--autoplay-policy=no-user-gesture-required',
      ],
    });
  }, RUNTIME_START_MS);

  afterAll(async () => {
    await browser?.close();
    await runtime?.close();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  }, 30_000);

  const opened: Page[] = [];
  /** On failure, a screenshot of every page still open, for the CI log's artifacts. */
  async function screenshotOnFailure<T>(name: string, body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (error) {
      await Promise.all(
        opened
          .filter((p) => !p.isClosed())
          .map((p, i) =>
            p
              .screenshot({ path: join(RESULTS, `${name}-failure-${i}.png`), fullPage: true })
              .catch(() => undefined),
          ),
      );
      throw error;
    }
  }

  /** A fresh profile per user, recording uncaught page errors and failed media requests. */
  async function openPage(): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning')
        console.log(`[browser] ${message.text()}`);
    });
    opened.push(page);
    page.on('response', (response) => {
      const url = response.url();
      if (response.status() >= 400 && (url.includes('/cdn/') || url.includes('/assets/')))
        problems.push(`${response.status()} ${url}`);
    });
    page.on('requestfailed', (request) => {
      if (!request.url().includes('/cdn/')) return;
      // A player aborting a request it no longer needs is normal; anything else is not.
      if (request.failure()?.errorText !== 'net::ERR_ABORTED')
        problems.push(`request failed: ${request.url()} ${request.failure()?.errorText}`);
    });
    return { context, page, problems };
  }

  async function signIn(page: Page, username: string, role: 'creator' | 'viewer') {
    await page.goto(`${runtime.url}/signin`);
    await expectNamedControls(page);
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Role').selectOption(role);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await visible(page.getByRole('heading', { level: 1, name: 'My videos' }));
    await visible(page.getByText(`Signed in as ${username}`));
  }

  it(
    'signs in, uploads with progress, waits for ready, plays, and hides a private video from others',
    () =>
      screenshotOnFailure('watch', async () => {
        const { context, page, problems } = await openPage();
        await signIn(page, 'carol', 'creator');

        // Upload through the page: file input (named by its label), title, visibility, Upload.
        await page.getByRole('link', { name: 'Upload', exact: true }).click();
        await expectNamedControls(page);
        await page.getByLabel('Choose a video file').setInputFiles(clip);
        await page.getByLabel('Title').fill('Browser <b>test</b> clip');
        expect(await page.getByLabel('Visibility').inputValue()).toBe('private');
        await page.getByRole('button', { name: 'Upload', exact: true }).click();

        const progress = page.getByRole('progressbar', { name: 'Upload progress' });
        await page.getByRole('heading', { name: 'Upload complete' }).waitFor({ timeout: 60_000 });
        expect(await progress.evaluate((el) => (el as HTMLProgressElement).value)).toBe(100);
        expect(await page.locator('.progress-text').textContent()).toContain('100%');
        const href = await page.getByRole('link', { name: 'open the video' }).getAttribute('href');
        const videoId = decodeURIComponent(href!.split('/').pop()!);

        // My videos: the title is shown as text (escaped), and the status goes live to Ready.
        await page.getByRole('link', { name: 'See its status in My videos' }).click();
        const row = page.locator(`tr[data-video-id="${videoId}"]`);
        await visible(row.getByRole('link', { name: 'Browser <b>test</b> clip', exact: true }));
        expect(await page.locator('td b').count()).toBe(0);
        await expectNamedControls(page);
        const status = row.locator('[data-status]');
        expect(['processing', 'ready']).toContain(await status.getAttribute('data-status'));
        await page.waitForFunction(
          (id) => {
            const s = document
              .querySelector(`tr[data-video-id="${id}"] [data-status]`)
              ?.getAttribute('data-status');
            if (s === 'failed')
              throw new Error(
                document.querySelector(`tr[data-video-id="${id}"] .failure`)?.textContent ?? 'failed',
              );
            return s === 'ready';
          },
          videoId,
          { timeout: READY_TIMEOUT_MS, polling: 500 },
        );

        // Watch: plain hls.js plays the private video from its playback URL; time advances.
        await row.getByRole('link', { name: 'Browser <b>test</b> clip', exact: true }).click();
        const video = page.locator('video');
        await video.waitFor();
        await page.waitForFunction(
          () => {
            const v = document.querySelector('video');
            return Boolean(v && v.readyState >= 2);
          },
          undefined,
          { timeout: 30_000 },
        );
        await video.evaluate((el) => {
          const v = el as HTMLVideoElement;
          v.muted = true;
          return v.play();
        });
        await page.waitForFunction(
          () => (document.querySelector('video')?.currentTime ?? 0) > 1.5,
          undefined,
          {
            timeout: 30_000,
          },
        );
        // The poster carries the same path token as the playlist; nothing in the query.
        expect(await page.locator('video').getAttribute('poster')).toMatch(
          /\/cdn\/t\/[^/?]+\/videos\/[^?]+$/,
        );
        expect(await page.getByLabel('Quality').locator('option').count()).toBeGreaterThanOrEqual(2);
        await expectNamedControls(page);
        await page.screenshot({ path: join(RESULTS, 'browser-watch.png'), fullPage: true });
        expect(problems).toEqual([]);

        // Another user: the private video is neither listed nor reachable.
        const other = await openPage();
        await signIn(other.page, 'dave', 'creator');
        await other.page.goto(`${runtime.url}/videos/${encodeURIComponent(videoId)}`);
        await visible(other.page.getByText('This video does not exist, or you are not allowed to see it.'));
        await other.page.goto(`${runtime.url}/`);
        await other.page.getByRole('heading', { level: 1, name: 'Videos' }).waitFor();
        await other.page.waitForLoadState('networkidle');
        expect(await other.page.getByText('Browser <b>test</b> clip').count()).toBe(0);
        expect(other.problems).toEqual([]);

        // Made public by its owner, the same user can now watch it.
        await page.goto(`${runtime.url}/me`);
        await row.getByRole('button', { name: 'Edit “Browser <b>test</b> clip”' }).click();
        await page.getByRole('dialog').getByLabel('Visibility').selectOption('public');
        await page.getByRole('dialog').getByRole('button', { name: 'Save' }).click();
        await visible(row.getByText('Public'));
        await other.page.goto(`${runtime.url}/videos/${encodeURIComponent(videoId)}`);
        await other.page.locator('video').waitFor();
        await other.context.close();
        await context.close();
      }),
    READY_TIMEOUT_MS + 120_000,
  );

  it(
    'resumes an upload after a page reload, sending only the missing parts, and can delete it',
    () =>
      screenshotOnFailure('resume', async () => {
        const { context, page, problems } = await openPage();
        // 20 MiB of noise: several parts (the server plans their size). Not a real video, so ingest will
        // fail it later; that does not matter here.
        const big = join(workDir, 'resumable.mp4');
        writeFileSync(big, randomBytes(20 * 1024 * 1024));
        await signIn(page, 'erin', 'creator');
        page.on('dialog', (dialog) => void dialog.accept()); // "Leave site?" while an upload runs

        // Hold every part after the first, and reload once part 1 is in storage.
        const putParts: number[] = [];
        page.on('request', (request) => {
          const part = new URL(request.url()).searchParams.get('partNumber');
          if (request.method() === 'PUT' && part) putParts.push(Number(part));
        });
        const laterParts = /[?&]partNumber=([2-9]|\d\d+)(&|$)/;
        await page.route(laterParts, () => undefined);
        await page.goto(`${runtime.url}/upload`);
        await page.getByLabel('Choose a video file').setInputFiles(big);
        await page.getByLabel('Title').fill('Resumable');
        const created = page.waitForResponse((r) => r.url().endsWith('/v1/uploads') && r.status() === 201);
        const firstPart = page.waitForResponse(
          (r) => /[?&]partNumber=1(&|$)/.test(r.url()) && r.request().method() === 'PUT',
        );
        await page.getByRole('button', { name: 'Upload', exact: true }).click();
        const { partCount, partSize } = (await (await created).json()) as {
          partCount: number;
          partSize: number;
        };
        expect(partCount).toBeGreaterThanOrEqual(2);
        expect((await firstPart).status()).toBe(200);
        await page.reload(); // the held parts die with the page
        await page.unroute(laterParts);

        // The unfinished upload is offered; choosing the same file resumes it.
        const percent = Math.floor((partSize / (20 * 1024 * 1024)) * 100);
        await visible(page.getByText(`“Resumable” — resumable.mp4, ${percent}% uploaded`));
        putParts.length = 0;
        await page.getByLabel('Choose a video file').setInputFiles(big);
        await visible(page.getByText(`${percent}% was already uploaded; only the rest will be sent`));
        await page.getByRole('button', { name: 'Upload', exact: true }).click();
        await page.getByRole('heading', { name: 'Upload complete' }).waitFor({ timeout: 60_000 });
        expect(putParts.sort((a, b) => a - b)).toEqual(
          Array.from({ length: partCount - 1 }, (_, i) => i + 2),
        );

        // Pause, resume and cancel another upload: cancelling deletes it on the server.
        await page.route(laterParts, () => undefined);
        await page.getByLabel('Choose a video file').setInputFiles({
          name: 'cancelled.mp4',
          mimeType: 'video/mp4',
          buffer: randomBytes(20 * 1024 * 1024),
        });
        await page.getByLabel('Title').fill('Cancelled');
        const cancelledPart = page.waitForResponse(
          (r) => /[?&]partNumber=1(&|$)/.test(r.url()) && r.request().method() === 'PUT',
        );
        await page.getByRole('button', { name: 'Upload', exact: true }).click();
        await cancelledPart;
        await page.getByRole('button', { name: 'Pause' }).click();
        await visible(page.getByRole('button', { name: 'Resume', pressed: true }));
        await page.getByRole('button', { name: 'Resume' }).click();
        await visible(page.getByRole('button', { name: 'Pause', pressed: false }));
        await page.getByRole('button', { name: 'Cancel upload' }).click();
        await visible(page.getByText('Upload cancelled.'));
        await page.unroute(laterParts);

        // Delete the finished one, with confirmation; nothing is left.
        await page.goto(`${runtime.url}/me`);
        await page.getByRole('button', { name: 'Delete “Resumable”' }).click();
        await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
        await visible(page.getByText('You have no videos yet.'));
        expect(problems).toEqual([]);
        await context.close();
      }),
    120_000,
  );
});
