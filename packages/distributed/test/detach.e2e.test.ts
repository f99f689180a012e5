/**
 * A distributed run in the background: `orch run --detach --store … --remote …` and, after its
 * supervisor was stopped mid-run, `orch state resume --detach --store …`; `orch wait --store` returns
 * when it ends. Real parts: a redis-server, a bare repository as the remote, one `orch host` of the
 * built CLI, the supervisor in a session of orch's own tmux server. The store's password is never
 * on the supervisor's command line (read from /proc) and the file it was handed in is gone.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent, RunState } from '@orch/core';
import { supervisorLog, supervisorSecretFile } from '@orch/engine';
import {
  cliWorld,
  enrollHost,
  spawnOrch,
  startRedis,
  trustHosts,
  writerTaskYaml,
  type CliWorld,
  type RedisFixture,
} from '@orch/test-utils';
import type { Redis } from 'ioredis';
import { connectStore, storeFromUrl } from '../src/connection.js';
import { keysFor } from '../src/keys.js';
import { RedisRunLog } from '../src/run-log.js';

const git = async (cwd: string, ...args: string[]): Promise<string> =>
  (await promisify(execFile)('git', args, { cwd })).stdout.trim();
const keys = keysFor('orch');

let redis: RedisFixture;
let conn: Redis;
let world: CliWorld;
let dir: string;
let bare: string;
let remote: string;
let host: ReturnType<typeof spawnOrch> | undefined;

beforeAll(async () => {
  redis = await startRedis();
  conn = await connectStore(await storeFromUrl(redis.url, { ORCH_REDIS_PASSWORD: redis.password }));
  world = await cliWorld({ 'README.md': '# app\n' });
  dir = await mkdtemp(join(tmpdir(), 'orch-detach-'));
  bare = join(dir, 'remote.git');
  await git(dir, 'clone', '-q', '--bare', world.repo.root, bare);
  remote = `file://${bare}`;
  // The run trusts its one host (enrolled as a user does: `orch host --identity`, then the config).
  await trustHosts(world.repo.root, { h1: await enrollHost(join(dir, 'h1'), 'h1') });
  const home = join(dir, 'h1-home');
  await mkdir(home, { recursive: true });
  await writeFile(join(home, '.gitconfig'), '[user]\n\tname = h1\n\temail = h1@orch.invalid\n');
  host = spawnOrch(
    [
      'host',
      ...['--store', redis.url, '--remote', remote, '--slots', '1'],
      ...['--workdir', join(dir, 'h1'), '--name', 'h1', '--lease', '5'],
    ],
    { cwd: dir, env: { ...world.env, HOME: home, ORCH_REDIS_PASSWORD: redis.password } },
  );
  host.catch(() => undefined);
});

afterAll(async () => {
  host?.kill('SIGTERM');
  await host?.catch(() => undefined);
  conn?.disconnect();
  await world?.cleanup();
  await redis?.stop();
  if (dir) await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
}, 60_000);

const history = (run: string): Promise<RunEvent[]> => new RedisRunLog(conn, keys, run).history();

/** Polls the run's journal in the store until `pick` finds something (bounded). */
async function until<T>(run: string, pick: (evs: RunEvent[]) => T | undefined, what: string): Promise<T> {
  for (const end = Date.now() + 60_000; Date.now() < end;) {
    const found = pick(await history(run));
    if (found !== undefined) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`run ${run}: no ${what} within 60 s`);
}

/** The pid of the n-th supervisor the journal names. */
const supervisorPid = (run: string, n: number): Promise<number> =>
  until(
    run,
    (evs) => evs.filter((e) => e.type === 'supervisor.started').map((e) => e.pid)[n - 1],
    `supervisor #${n}`,
  );

/** The supervisor process's command line (NUL-separated in /proc). */
async function cmdline(pid: number): Promise<string[]> {
  return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter(Boolean);
}

describe('a distributed run with --detach', () => {
  it('run --detach, a stop, resume --detach and wait --store: the run finishes, the password never on argv', async () => {
    await writeFile(join(world.repo.root, 'tasks.yaml'), `tasks:${writerTaskYaml('a', [], { pause: 3 })}\n`);
    const env = { ORCH_REDIS_PASSWORD: redis.password };
    const started = await world.orch(
      ['run', 'tasks.yaml', '--store', redis.url, '--remote', remote, '--yes', '--detach', '--json'],
      { env },
    );
    expect({ exit: started.exitCode, stderr: started.stderr }).toMatchObject({ exit: 0 });
    const out = JSON.parse(started.stdout) as {
      run: string;
      detached: boolean;
      store: string;
      session: string;
    };
    expect(out).toMatchObject({ detached: true, store: redis.url });
    const run = out.run;

    // The supervisor runs in orch's tmux session with the store on its command line, not the password.
    const first = await supervisorPid(run, 1);
    const argv = await cmdline(first);
    expect(argv).toEqual(
      expect.arrayContaining(['_supervise', '--run', run, '--store', redis.url, '--remote', remote]),
    );
    expect(argv.join(' ')).not.toContain(redis.password);
    // Nor did it come through tmux's environment (the starting command's was not passed on).
    expect(await readFile(`/proc/${first}/environ`, 'utf8')).not.toContain(redis.password);
    // The password was handed over in a file the supervisor removed once it had read it.
    expect(existsSync(supervisorSecretFile(world.repo.root, run))).toBe(false);

    // Stopped while its task runs on the host: it says so and lets go of the lease.
    await until(run, (evs) => (evs.some((e) => e.type === 'task.placed') ? true : undefined), 'placement');
    process.kill(first, 'SIGTERM');
    await until(run, (evs) => (evs.some((e) => e.type === 'supervisor.stopped') ? true : undefined), 'stop');
    for (const end = Date.now() + 20_000; Date.now() < end && (await conn.exists(keys.lease(run)));)
      await new Promise((r) => setTimeout(r, 100));
    expect(await conn.exists(keys.lease(run))).toBe(0);

    const resumed = await world.orch(['state', 'resume', '--store', redis.url, '--detach', '--json'], {
      env,
    });
    expect({ exit: resumed.exitCode, stderr: resumed.stderr }).toMatchObject({ exit: 0 });
    expect(JSON.parse(resumed.stdout)).toMatchObject({ run, detached: true, store: redis.url });
    const second = await supervisorPid(run, 2);
    expect(second).not.toBe(first);
    const argv2 = await cmdline(second);
    expect(argv2).toEqual(expect.arrayContaining(['_supervise', '--resume', '--store', redis.url]));
    expect(argv2.join(' ')).not.toContain(redis.password);

    // `orch wait --store` returns when the detached supervisor has finished the run.
    const waited = await world.orch(
      ['wait', '--store', redis.url, '--run', run, '--timeout', '120', '--json'],
      {
        env,
        timeoutMs: 150_000,
      },
    );
    const state = JSON.parse(waited.stdout) as RunState;
    expect({ exit: waited.exitCode, outcome: state.outcome, reason: state.reason ?? undefined }).toEqual({
      exit: 0,
      outcome: 'succeeded',
      reason: undefined,
    });
    const events = await history(run);
    expect(events.filter((e) => e.type === 'task.merged').map((e) => e.task)).toEqual(['a']);
    // Promoted in the run's own checkout, as a detached local run is.
    expect(await world.repo.git('rev-parse', 'HEAD')).toBe(
      await git(bare, 'rev-parse', `refs/heads/orch/${run}/staging`),
    );
    // Both supervisors wrote their lines to the run's log.
    // (tmux copies the pane to the log as it goes: the last line may follow the run's end a little.)
    const logFile = supervisorLog(world.repo.root, run);
    let log = '';
    for (const end = Date.now() + 10_000; Date.now() < end && !log.includes(`Run ${run} succeeded`);) {
      log = await readFile(logFile, 'utf8');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(log).toContain(
      `Run ${run} stopped; continue it with: orch state resume --store ${redis.url} --run ${run}`,
    );
    expect(log).toContain(`Took over run ${run}`);
    expect(log).toContain(`Run ${run} succeeded`);
    expect(log).not.toContain(redis.password);
  }, 180_000);
});
