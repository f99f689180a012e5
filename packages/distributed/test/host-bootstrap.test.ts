/**
 * A host's worktree bootstrap against a real bare clone and real worktrees of it (no tmux, no run):
 * the install from the worktree's lockfile (a stand-in `npm` on PATH), its reuse by another
 * worktree of the host made for the same lockfiles, the setup commands with the task's
 * environment, the files a host cannot copy from a checkout, and a failing setup command.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Config, isOrchError } from '@orch/core';
import { bootstrapOnHost } from '../src/host-bootstrap.js';

const run = promisify(execFile);
const git = async (cwd: string, ...args: string[]): Promise<string> =>
  (await run('git', args, { cwd, encoding: 'utf8' })).stdout.trim();

let base: string;
let clone: string;
let workRoot: string;
let depsRoot: string;
let bin: string;

/** A worktree of the host's clone for `task`, as the host makes one per attempt. */
async function worktree(task: string): Promise<string> {
  const path = join(workRoot, 'r1', task);
  await git(clone, 'worktree', 'add', '-q', '-B', `orch/r1/${task}/work`, path, 'main');
  return path;
}

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'orch-host-bootstrap-'));
  const src = join(base, 'src');
  await mkdir(src);
  await git(src, 'init', '-q', '-b', 'main');
  await writeFile(join(src, 'package.json'), '{"name":"app","version":"1.0.0"}\n');
  await writeFile(join(src, 'package-lock.json'), '{"lockfileVersion":3}\n');
  await writeFile(join(src, '.gitignore'), 'node_modules/\n.env\n');
  await writeFile(join(src, '.worktreeinclude'), '.env\n');
  await git(src, 'add', '-A');
  await git(src, '-c', 'user.name=t', '-c', 'user.email=t@x', 'commit', '-q', '-m', 'init');
  clone = join(base, 'host', 'repo.git');
  await git(base, 'clone', '-q', '--bare', src, clone);
  workRoot = join(base, 'host', 'work');
  depsRoot = join(base, 'host', 'deps');
  // A stand-in npm: installs one module and counts its runs.
  bin = join(base, 'bin');
  await mkdir(bin);
  await writeFile(
    join(bin, 'npm'),
    `#!/bin/sh\necho "$@" >> ${join(base, 'npm-calls')}\nmkdir -p node_modules/dep && echo 'module.exports = 1' > node_modules/dep/index.js\n`,
  );
  await chmod(join(bin, 'npm'), 0o755);
});

afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

const env = (): Record<string, string> => ({
  PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
  ORCH_TASK: 'a',
  ORCH_PORT_BASE: '4100',
});

describe("a host's worktree bootstrap", () => {
  it("installs from the worktree's lockfile, a later attempt's worktree reuses it by lockfile hash, setup runs with the task's ports", async () => {
    const config = Config.parse({
      worktree: { setup: ['echo "port $ORCH_PORT_BASE" > setup.out'], copy: ['.env.local'] },
    });
    const first = await worktree('a');
    const log1 = join(base, 'host', 'logs', 'a-1.log');
    await bootstrapOnHost({
      host: 'h1',
      worktree: first,
      workRoot,
      depsRoot,
      config,
      env: env(),
      logFile: log1,
    });
    expect(await readFile(join(first, 'node_modules', 'dep', 'index.js'), 'utf8')).toContain(
      'module.exports',
    );
    expect(await readFile(join(first, 'setup.out'), 'utf8')).toBe('port 4100\n');
    const text1 = await readFile(log1, 'utf8');
    expect(text1).toContain('[orch bootstrap] node_modules: installed with `npm ci --offline');
    // What a local run copies from the user's checkout is not on a host, and the log says so.
    expect(text1).toContain('[orch host h1] not on this host');
    expect(text1).toContain('.env.local, .env');
    expect(existsSync(join(first, '.env'))).toBe(false);

    // The attempt ends and its worktree goes (as on a host); the host kept its node_modules.
    expect(await readdir(depsRoot)).toHaveLength(1);
    await git(clone, 'worktree', 'remove', '--force', first);
    const second = await worktree('b');
    const log2 = join(base, 'host', 'logs', 'b-1.log');
    await bootstrapOnHost({
      host: 'h1',
      worktree: second,
      workRoot,
      depsRoot,
      config,
      env: env(),
      logFile: log2,
    });
    expect(await readFile(join(second, 'node_modules', 'dep', 'index.js'), 'utf8')).toContain(
      'module.exports',
    );
    expect(await readFile(log2, 'utf8')).toContain('made for the same lockfiles');
    expect((await readFile(join(base, 'npm-calls'), 'utf8')).trim().split('\n')).toHaveLength(1);
  });

  it('a failing setup command ends the bootstrap with its error, written into the log', async () => {
    const config = Config.parse({ worktree: { install: 'off', setup: ['echo broken >&2; exit 7'] } });
    const wt = await worktree('a');
    const logFile = join(base, 'host', 'logs', 'a-1.log');
    const err = await bootstrapOnHost({
      host: 'h1',
      worktree: wt,
      workRoot,
      depsRoot,
      config,
      env: env(),
      logFile,
    }).catch((e: unknown) => e);
    expect(isOrchError(err, 'ERR_ORCH_SETUP_FAILED')).toBe(true);
    const text = await readFile(logFile, 'utf8');
    expect(text).toContain("[orch host h1] the worktree's bootstrap failed: Worktree setup command failed");
    expect(text).toContain('broken');
  });
});
