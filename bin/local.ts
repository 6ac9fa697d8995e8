#!/usr/bin/env -S npx tsx
/**
 * `npm start`: VideoCloud whole on one machine, against local stand-ins (PGlite or DATABASE_URL,
 * s3rver, dynalite, an in-process SQS, a local token issuer). State lives in VIDEOCLOUD_DATA_DIR.
 */
// First: the loggers the handlers create print concise lines to this terminal.
import '../local/terminal-logs.ts';
import { loadLocalConfig } from '../local/config.ts';
import { startLocalRuntime } from '../local/runtime.ts';

const startedAt = performance.now();

async function main(): Promise<void> {
  const localConfig = loadLocalConfig();
  const runtime = await startLocalRuntime(localConfig);

  const health = await fetch(`${runtime.url}/v1/health`);
  if (!health.ok) {
    console.error(`VideoCloud started but is not healthy: ${await health.text()}`);
    await runtime.stop();
    process.exit(1);
  }
  console.log(`VideoCloud local ready at ${runtime.url}`);
  console.log(`  API docs     ${runtime.url}/docs`);
  console.log(`  data dir     ${localConfig.VIDEOCLOUD_DATA_DIR} (delete it to start over)`);
  console.log(`  started in   ${((performance.now() - startedAt) / 1000).toFixed(1)} s; Ctrl-C stops`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping VideoCloud…`);
    // Work still in flight (a transcode) is not waited for: its queue message comes back to the next start.
    setTimeout(() => {
      console.error('Still stopping after 10 s: exiting; unfinished work is picked up at the next start');
      process.exit(1);
    }, 10_000).unref();
    runtime.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`Stopped with an error: ${(error as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  watchLauncher(shutdown);
}

/**
 * The launcher (npm, or a shell) may die without a signal reaching us, e.g. `kill -9` of `npm start`:
 * the runtime would go on serving the port as an orphan. Its parent changing is the sign: stop then.
 */
function watchLauncher(shutdown: (why: string) => void): void {
  const launcher = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== launcher) {
      clearInterval(timer);
      shutdown(`the launcher (pid ${launcher}) is gone`);
    }
  }, 500);
  timer.unref();
}

main().catch((error: unknown) => {
  const err = error as NodeJS.ErrnoException & { port?: number };
  if (err.code === 'EADDRINUSE') {
    console.error(
      `Port ${err.port ?? process.env.PORT ?? 3000} is already in use: set PORT to a free one, e.g. PORT=3001 npm start`,
    );
  } else if (err.name === 'ConfigError' || err.name === 'DataDirInUseError') {
    console.error(err.message);
  } else {
    console.error(`VideoCloud could not start: ${err.message}`);
  }
  process.exit(1);
});
