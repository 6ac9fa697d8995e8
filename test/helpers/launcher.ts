import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/**
 * `npm start` (or the node process it execs) as a child process of a test, the way a developer runs it:
 * its own process group, PGlite under the given data dir, a port of its own. Linux only (/proc) for the
 * process-tree helpers.
 */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Launched {
  child: ChildProcess;
  pid: number;
  /** Everything it printed so far, stdout and stderr. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the URL once it prints "VideoCloud local ready at ...", rejects if it exits first. */
  ready(timeoutMs: number): Promise<string>;
  /** SIGKILL to its whole process group (cleanup; the test's own kills target one pid). */
  killGroup(): void;
}

export function launch(options: {
  dataDir: string;
  /** 'npm': `npm start`; 'node': what it execs, `node --import tsx bin/local.ts`. */
  how: 'npm' | 'node';
  port?: number;
  env?: Record<string, string>;
}): Launched {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(options.port ?? 0),
    VIDEOCLOUD_DATA_DIR: options.dataDir,
    LOG_LEVEL: 'WARN',
    ...options.env,
  };
  // jest's module flags, and a DATABASE_URL meant for the test process, are not the runtime's.
  delete env.NODE_OPTIONS;
  delete env.DATABASE_URL;
  const [command, args] =
    options.how === 'npm'
      ? ['npm', ['start', '--silent']]
      : [process.execPath, ['--import', 'tsx', 'bin/local.ts']];
  const child = spawn(command, args, {
    cwd: REPO_ROOT,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let printed = '';
  child.stdout!.on('data', (chunk: Buffer) => (printed += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (printed += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  let gone = false;
  void exited.then(() => (gone = true));
  return {
    child,
    pid: child.pid!,
    output: () => printed,
    exited,
    async ready(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const url = /VideoCloud local ready at (http:\/\/\S+)/.exec(printed)?.[1];
        if (url) return url;
        if (gone) throw new Error(`the runtime exited before it was ready:\n${printed}`);
        if (Date.now() > deadline)
          throw new Error(`the runtime was not ready within ${timeoutMs} ms:\n${printed}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    killGroup() {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    },
  };
}

/** A port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie still answers signal 0.
  return !/^\d+ \(.*\) Z/.test(readStat(pid) ?? '');
}

function readStat(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
}

/** Every process below `pid`, by walking /proc's parent links. */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (!stat) continue;
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
  }
  const found: number[] = [];
  const walk = (parent: number) => {
    for (const child of children.get(parent) ?? []) {
      found.push(child);
      walk(child);
    }
  };
  walk(pid);
  return found;
}

export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** True when nothing accepts connections on the port any more. */
export async function portClosed(port: number): Promise<boolean> {
  try {
    await fetch(`http://127.0.0.1:${port}/v1/health`, { signal: AbortSignal.timeout(2_000) });
    return false;
  } catch (error) {
    return /ECONNREFUSED/.test(String((error as { cause?: unknown }).cause ?? error));
  }
}
