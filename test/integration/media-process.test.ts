import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { until } from '#test/helpers/eventually.ts';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('media tool children', () => {
  const dir = mkdtempSync(join(tmpdir(), 'process-exit-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('do not outlive a process that exits without waiting for them', async () => {
    const pidFile = join(dir, 'child.pid');
    const parent = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'test/fixtures/process/exit-mid-run.ts', pidFile],
      {
        encoding: 'utf8',
        timeout: 90_000,
      },
    );
    expect(parent.status).toBe(0);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(pid).toBeGreaterThan(1);
    await until(() => !alive(pid), { timeoutMs: 10_000, what: 'the child to be gone' });
  });
});
