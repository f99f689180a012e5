/**
 * The OS sandbox of an attempt on a host: the layout with a host's paths (a real bare clone and
 * worktrees, a real bubblewrap run from inside it), and the worker's environment without the
 * store's password. The work directory is under /var/tmp, as a host's is outside /tmp.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Config } from '@orch/core';
import { sandboxArgv, writeAttemptFiles, type ExecSpec } from '@orch/engine';
import { hostSandbox, hostSandboxLayout, workerBaseEnv, type HostSandboxPlace } from '../src/host-sandbox.js';

const run = promisify(execFile);
const sh = async (cwd: string, script: string): Promise<string> =>
  (await run('sh', ['-c', script], { cwd, encoding: 'utf8' })).stdout;

let base: string;
let dir: string;
let place: HostSandboxPlace;

beforeEach(async () => {
  base = await mkdtemp('/var/tmp/orch-host-sandbox-');
  dir = join(base, 'host');
  const home = join(base, 'home');
  await mkdir(home);
  await writeFile(join(home, '.gitconfig'), '[user]\n\tname = host\n\temail = host@orch.invalid\n');
  await sh(
    base,
    'git init -q -b main src && git -C src -c user.name=t -c user.email=t@x commit -q --allow-empty -m init && git clone -q --bare src host/repo.git',
  );
  const clone = join(dir, 'repo.git');
  // This attempt's worktree, and another attempt's beside it.
  for (const t of ['a', 'b'])
    await run(
      'git',
      ['worktree', 'add', '-q', '-B', `orch/r1/${t}/work`, join(dir, 'work', 'r1', t), 'main'],
      {
        cwd: clone,
      },
    );
  for (const d of ['identity', 'ssh', 'bin', 'logs/r1', 'root/.orchestrator/runs/r1/tasks/b'])
    await mkdir(join(dir, d), { recursive: true });
  await writeFile(join(dir, 'identity', 'host.key'), 'PRIVATE KEY');
  await writeFile(join(dir, 'root/.orchestrator/runs/r1/tasks/b/spec-1.json'), '{"token":"theirs"}');
  await writeFile(join(base, 'redis.pass'), 'hunter2');
  place = {
    host: 'h1',
    workdir: dir,
    clone,
    root: join(dir, 'root'),
    shimDir: join(dir, 'bin'),
    run: 'r1',
    task: 'a',
    worktree: join(dir, 'work', 'r1', 'a'),
    runtimeHidden: [],
    env: { HOME: home, ORCH_REDIS_PASSWORD_FILE: join(base, 'redis.pass'), PATH: process.env.PATH ?? '' },
  };
});

afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('the OS sandbox of an attempt on a host', () => {
  it('hides the work directory but for the attempt: no identity, ssh, other worktrees or channels, no password file', async () => {
    const layout = await hostSandboxLayout(place, { HOME: place.env.HOME as string }, 'shell');
    const argv = sandboxArgv(layout, [
      'sh',
      '-c',
      [
        `ls -A ${dir}; echo --; ls -A ${join(dir, 'work', 'r1')}; echo --; ls -A ${join(dir, 'root', '.orchestrator', 'runs', 'r1', 'tasks')}`,
        `echo --; cat ${dir}/identity/host.key 2>/dev/null || echo no-identity`,
        `cat ${base}/redis.pass 2>/dev/null || echo no-password`,
        'echo x > f && git add f && git commit -qm work && git log -1 --format=%an',
      ].join('\n'),
    ]);
    // What is bound: the clone read-only, its objects, the attempt's own worktree, channel and shim.
    const binds = (flag: string): string[] =>
      argv.flatMap((a, i) => (a === flag ? [argv[i + 1] as string] : []));
    expect(binds('--tmpfs')).toContain(dir);
    expect(binds('--ro-bind')).toEqual(expect.arrayContaining([place.clone, join(dir, 'bin')]));
    expect(binds('--bind')).toEqual(
      expect.arrayContaining([
        place.worktree,
        join(place.clone, 'objects'),
        join(dir, 'root/.orchestrator/runs/r1/tasks/a'),
      ]),
    );
    const mounts = argv.slice(0, argv.indexOf('--')).join(' ');
    for (const p of ['identity', 'ssh', 'logs', 'work/r1/b', 'tasks/b'])
      expect(mounts).not.toContain(`${dir}/${p}`);

    const seen = (
      await run(argv[0] as string, argv.slice(1), {
        cwd: place.worktree,
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: place.env.HOME as string },
      })
    ).stdout;
    const [top, work, tasks, rest] = seen.split('--\n');
    expect(top?.trim().split('\n').sort()).toEqual(['bin', 'repo.git', 'root', 'work']);
    expect(work?.trim()).toBe('a');
    expect(tasks?.trim()).toBe('a');
    // The host's git identity is there for the worker's commit; its keys and password are not.
    expect(rest?.trim().split('\n')).toEqual(['no-identity', 'no-password', 'host']);
    expect(await sh(place.worktree, 'git log -1 --format=%s')).toBe('work\n');
  });

  it("the worker's environment never holds the store's password, even when workers.env_passthrough names it", async () => {
    const config = Config.parse({
      workers: { env_passthrough: ['ORCH_REDIS_PASSWORD', 'ORCH_REDIS_PASSWORD_FILE'] },
    });
    const hostEnv = { ...place.env, ORCH_REDIS_PASSWORD: 'hunter2' };
    expect(Object.keys(workerBaseEnv(hostEnv)).sort()).toEqual(['HOME', 'PATH']);
    const sandbox = await hostSandbox(config, place, 'shell');
    const files = await writeAttemptFiles(
      {
        run: 'r1',
        task: 'a',
        attempt: 1,
        agent: 'shell',
        prompt: 'p',
        script: 'true',
        token: 'ab'.repeat(32),
        env: { ORCH_TASK: 'a' },
        sandbox: sandbox.on,
      },
      {
        root: place.root,
        worktree: place.worktree,
        logFile: join(dir, 'logs/r1/w-1.log'),
        rawLog: join(dir, 'logs/r1/w-1.raw.log'),
        execPath: process.execPath,
        orchBin: '/bin/true',
        env: { ORCH_ROOT: place.root, ORCH_WORKTREE: place.worktree, PATH: '/usr/bin:/bin' },
        config,
        baseEnv: workerBaseEnv(hostEnv),
        ...(sandbox.layout ? { sandboxLayout: sandbox.layout } : {}),
      },
    );
    const spec = JSON.parse(await readFile(files.specFile, 'utf8')) as ExecSpec;
    expect(Object.keys(spec.env).filter((k) => k.startsWith('ORCH_REDIS'))).toEqual([]);
    // workers.sandbox is auto and bwrap works here: the attempt runs in the host's layout.
    expect(spec.sandbox?.hidden).toContain(dir);
    expect(spec.sandbox?.hiddenFiles).toEqual([join(base, 'redis.pass')]);
  });
});
