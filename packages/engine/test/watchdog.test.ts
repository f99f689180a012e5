import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runShellCommand } from '../src/verify/run-command.js';
import {
  commandRecordDir,
  leftoverCommands,
  processStartTime,
  recordCommandsIn,
  stopLeftoverCommands,
} from '../src/verify/watchdog.js';

const groupAlive = (pgid: number): boolean => {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('command records and leftovers', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orch-watchdog-'));
  });
  afterEach(async () => {
    recordCommandsIn(undefined);
    await rm(dir, { recursive: true, force: true });
  });

  it('records a running command in the run folder and forgets it when it ends', async () => {
    recordCommandsIn(dir);
    const run = runShellCommand({
      command: 'sleep 1',
      cwd: dir,
      timeoutMs: 30_000,
      logPath: join(dir, 'log'),
      header: '',
    });
    let seen: string[] = [];
    for (let i = 0; i < 50 && seen.length === 0; i++) {
      seen = await readdir(commandRecordDir(dir)).catch(() => []);
      if (seen.length === 0) await new Promise((r) => setTimeout(r, 20));
    }
    expect(seen).toHaveLength(1);
    expect((await leftoverCommands(dir)).map((c) => c.command)).toEqual(['sleep 1']);
    expect((await run).exitCode).toBe(0);
    expect(await readdir(commandRecordDir(dir))).toEqual([]);
  });

  it('stops a recorded leftover group, and never a group whose id was reused by another process', async () => {
    const ours = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
    const other = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
    const gone = new Promise<NodeJS.Signals | null>((r) => ours.once('exit', (_c, s) => r(s)));
    try {
      await mkdir(commandRecordDir(dir), { recursive: true });
      const rec = (pgid: number, startTime: string | undefined) =>
        JSON.stringify({
          pgid,
          command: 'sleep 300',
          cwd: dir,
          startedAt: 'x',
          ...(startTime ? { startTime } : {}),
        });
      await writeFile(
        join(commandRecordDir(dir), `${ours.pid}.json`),
        rec(ours.pid!, processStartTime(ours.pid!)),
      );
      // Same id, another start time: what a reused id looks like (on Linux, where start times exist).
      const otherStart = processStartTime(other.pid!);
      await writeFile(
        join(commandRecordDir(dir), `${other.pid}.json`),
        rec(other.pid!, otherStart === undefined ? undefined : `${otherStart}1`),
      );
      const stopped = await stopLeftoverCommands(dir);
      expect(await gone).toBe('SIGKILL');
      if (otherStart !== undefined) {
        expect(stopped.map((c) => c.pgid)).toEqual([ours.pid]);
        expect(groupAlive(other.pid!)).toBe(true);
      }
      expect(await readdir(commandRecordDir(dir))).toEqual([]);
    } finally {
      other.kill('SIGKILL');
      ours.kill('SIGKILL');
    }
  });
});
