import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * One runtime per data dir: PGlite, dynalite and the queue file each assume they are alone with their
 * files, and a second runtime on the same dir used to crash midway with "Database is closed". The lock is
 * a file holding the owner's pid (and, on Linux, its start time, so a recycled pid is not mistaken for
 * the owner). A lock whose owner is gone (killed with -9, the machine rebooted) is stale and taken over.
 */
export const LOCK_FILE = 'videocloud.lock';

interface LockOwner {
  pid: number;
  /** /proc/<pid>/stat field 22 (clock ticks after boot), where there is one. */
  startTime?: string;
}

export class DataDirInUseError extends Error {
  override readonly name = 'DataDirInUseError';
}

/** Takes the data dir's lock, or throws DataDirInUseError naming the process that holds it. */
export function lockDataDir(dataDir: string): { release(): void } {
  const file = join(dataDir, LOCK_FILE);
  const me: LockOwner = { pid: process.pid, startTime: processStartTime(process.pid) };
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, JSON.stringify(me));
      closeSync(fd);
      return {
        release: () => {
          if (readOwner(file)?.pid === me.pid) rmSync(file, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = readOwner(file);
    if (owner && isAlive(owner)) {
      throw new DataDirInUseError(
        `The data dir ${dataDir} is in use by another VideoCloud runtime (pid ${owner.pid}${
          owner.pid === process.pid ? ', this process' : ''
        }): stop it first, or set VIDEOCLOUD_DATA_DIR to another directory`,
      );
    }
    // Stale (or unreadable, half-written by a runtime killed mid-write): remove it and try once more.
    rmSync(file, { force: true });
  }
  throw new DataDirInUseError(`Could not lock the data dir ${dataDir}: another runtime keeps taking it`);
}

function readOwner(file: string): LockOwner | undefined {
  try {
    const owner = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockOwner>;
    return typeof owner.pid === 'number' ? { pid: owner.pid, startTime: owner.startTime } : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(owner: LockOwner): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    // EPERM: it exists, it is just not ours to signal.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const now = processStartTime(owner.pid);
  return owner.startTime === undefined || now === undefined || now === owner.startTime;
}

function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}
