/**
 * `orch deps list|approve|deny` on a distributed run: the requests are read from the run's log in
 * a real redis-server, and a decision goes through the user's channel to the supervisor's handler
 * (`serveUserChannel` with `supervisorDeps`, as a live `DistributedRun` serves it), which installs
 * on staging in the supervisor's checkout, pushes staging to a real bare remote with the lease and
 * journals. No tmux, no whole run.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type RunEvent } from '@orch/core';
import {
  RedisMailbox,
  RedisRunLog,
  SupervisorLease,
  connectStore,
  keysFor,
  publishRunStart,
  remoteRepository,
  serveUserChannel,
  storeFromUrl,
  supervisorDeps,
} from '@orch/distributed';
import { gitRepository } from '@orch/engine';
import { Repo, runGit } from '@orch/git';
import { ensureRunKey, runPaths } from '@orch/store';
import { runStarted, startRedis, tempRepo, type RedisFixture, type TempRepo } from '@orch/test-utils';
import { orchInProcess } from './in-process.js';

const keys = keysFor();
let redis: RedisFixture;
let conn: Awaited<ReturnType<typeof connectStore>>;
let repo: TempRepo;
let remote: string;
let elsewhere: string;
let pkg: string;
let run: string;
let keyFile: string;
let lease: SupervisorLease | undefined;
let log: RedisRunLog;
let stopChannel: (() => Promise<void>) | undefined;

const started = (task: string) => ({
  type: 'task.started' as const,
  ...{ task, attempt: 1, session: `s-${task}`, agent: 'shell', promptPath: 'p', logPath: 'l' },
});

beforeAll(async () => {
  redis = await startRedis();
  conn = await connectStore(await storeFromUrl(redis.url, { ORCH_REDIS_PASSWORD: redis.password }));
  elsewhere = await mkdtemp(join(tmpdir(), 'orch-deps-elsewhere-'));
  pkg = join(elsewhere, 'leftpad');
  await mkdir(pkg);
  await writeFile(join(pkg, 'package.json'), '{"name":"leftpad","version":"1.0.0","main":"index.js"}\n');
  await writeFile(join(pkg, 'index.js'), 'module.exports = (s, n) => String(s).padStart(n);\n');
  repo = await tempRepo({
    'package.json': '{"name":"app","version":"1.0.0","private":true}\n',
    'package-lock.json':
      '{"name":"app","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{"":{"name":"app","version":"1.0.0"}}}\n',
    '.gitignore': 'node_modules/\n.orchestrator/\n',
  });
  remote = join(elsewhere, 'remote.git');
  await runGit(['init', '-q', '--bare', remote], { cwd: elsewhere });
  run = `r${randomBytes(4).toString('hex')}`;
  const head = (await repo.git('rev-parse', 'HEAD')).trim();
  await repo.git('update-ref', `refs/heads/orch/${run}/staging`, head);
  await publishRunStart(
    { repoRoot: repo.root, url: remote, run },
    { base: 'main', baseCommit: head, stagingCommit: head },
  );
  // The supervisor's run folder in its checkout: the key, no journal (that is in Redis).
  const key = await ensureRunKey(runPaths(repo.root, run).dir);
  keyFile = join(elsewhere, 'run.key');
  await writeFile(keyFile, `${key.toString('hex')}\n`);
  await chmod(keyFile, 0o600);
  lease = await SupervisorLease.acquire(conn, keys, run, { ttlMs: 10_000 });
  log = new RedisRunLog(conn, keys, run, { lease, key });
  await log.append(runStarted(['pad', 'ui', 'odd'], { run, baseCommit: head, repoRoot: repo.root }));
  await conn.zadd(keys.runs(), Date.now(), run);
  for (const [task, needs] of [
    ['pad', `file:${pkg}`],
    ['ui', 'axios@1'],
    ['odd', 'left;pad'],
  ] as const) {
    await log.append({ type: 'task.ready', task });
    await log.append(started(task));
    await log.append({ type: 'task.blocked', task, needs, reason: `I need ${needs}` });
  }
  const repository = remoteRepository(gitRepository(await Repo.open(repo.root)), {
    repoRoot: repo.root,
    url: remote,
    run,
  });
  stopChannel = await serveUserChannel({
    redis: conn,
    keys,
    run,
    key,
    journal: log,
    deps: supervisorDeps({
      repoRoot: repo.root,
      run,
      journal: log,
      repository,
      config: await loadConfig(repo.root),
    }),
  });
}, 30_000);

afterAll(async () => {
  await stopChannel?.();
  await lease?.release();
  log?.close();
  conn?.disconnect();
  await redis?.stop();
  await repo?.cleanup();
  await rm(elsewhere, { recursive: true, force: true });
});

/** The user's command on another machine: a folder that is no checkout, the store and the key. */
const fromElsewhere = (args: string[], extra: Record<string, string> = {}) =>
  orchInProcess([...args, '--store', redis.url, '--run', run], {
    cwd: elsewhere,
    env: {
      ORCH_REDIS_PASSWORD: redis.password,
      ORCH_RUN_KEY_FILE: keyFile,
      ORCH_RUN: '',
      ORCH_TASK: '',
      ORCH_TASK_TOKEN: '',
      ...extra,
    },
  });

async function events(): Promise<RunEvent[]> {
  await log.refresh();
  return log.history();
}

describe('orch deps --store, through the live supervisor', () => {
  it('lists the pending requests of the run in the store, as a local run does', async () => {
    const r = await fromElsewhere(['deps', 'list', '--json']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      run,
      requests: [
        { task: 'pad', spec: `file:${pkg}`, reason: `I need file:${pkg}` },
        { task: 'ui', spec: 'axios@1', reason: 'I need axios@1' },
        { task: 'odd', spec: 'left;pad', reason: 'I need left;pad' },
      ],
      conflicts: [],
    });
    const human = await fromElsewhere(['deps', 'list']);
    expect(human.stdout).toMatch(/^ui\s+axios@1\s+I need axios@1$/m);
  });

  it('denies a request: the supervisor journals the unblock with the item and tells the worker', async () => {
    const r = await fromElsewhere(['deps', 'deny', 'ui', '--reason', 'use fetch', '--json']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      task: 'ui',
      reason: 'use fetch',
      denied: [{ spec: 'axios@1' }],
    });
    const unblocked = (await events()).filter((e) => e.type === 'task.unblocked');
    expect(unblocked).toEqual([
      expect.objectContaining({
        task: 'ui',
        item: expect.any(String),
        reason: 'dependency request for axios@1 denied: use fetch. Do the task without it.',
      }),
    ]);
    const inbox = await new RedisMailbox(conn, keys, run, { tasks: ['pad', 'ui', 'odd'] }).check('ui');
    expect(inbox.map((m) => m.body)).toContain('Your request for axios@1 was denied: use fetch');
  });

  it("a refusal on the supervisor's side comes back with its own code, and nothing is journaled", async () => {
    const before = (await events()).length;
    const r = await fromElsewhere(['deps', 'approve', 'odd']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('ERR_ORCH_DEPS_BAD_SPEC');
    expect(r.stderr).toContain('"left;pad" is not a package spec orch will install');
    expect((await events()).length).toBe(before);
  });

  it('approves a request: installed on staging, staging pushed to the remote, the events on the log', async () => {
    const r = await fromElsewhere(['deps', 'approve', 'pad', '--json']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const res = JSON.parse(r.stdout) as { commit: string; command: string[]; envHash: string };
    expect(res.command.slice(0, 2)).toEqual(['npm', 'install']);
    // The remote's staging is the new tip (hosts fetch it), and it holds the new dependency.
    const onRemote = await runGit(['ls-remote', remote, `refs/heads/orch/${run}/staging`], {
      cwd: elsewhere,
    });
    expect(onRemote.stdout.split(/\s/)[0]).toBe(res.commit);
    const manifest = await runGit(['show', `${res.commit}:package.json`], { cwd: repo.root });
    expect(manifest.stdout).toContain('"leftpad"');
    const evs = await events();
    expect(evs.filter((e) => e.type === 'staging.moved').at(-1)).toMatchObject({ to: res.commit });
    expect(evs.filter((e) => e.type === 'env.changed').at(-1)).toMatchObject({ hash: res.envHash });
    expect(log.state?.stagingCommit).toBe(res.commit);
    expect(log.state?.tasks.pad?.blockedNeeds).toBeUndefined();
    // No journal was written in the supervisor's checkout: the run's log is in Redis.
    expect(existsSync(runPaths(repo.root, run).events)).toBe(false);
    // Decided requests are no longer pending; a second approval is refused before it is sent.
    const again = await fromElsewhere(['deps', 'approve', 'pad']);
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toContain('ERR_ORCH_DEPS_NONE');
  }, 60_000);

  it("in the run's checkout without a store, refuses to use a local journal; with store.url, uses it", async () => {
    const here = (args: string[]) =>
      orchInProcess([...args, '--run', run], {
        cwd: repo.root,
        env: { ORCH_REDIS_PASSWORD: redis.password, ORCH_RUN: '', ORCH_TASK: '', ORCH_TASK_TOKEN: '' },
      });
    for (const args of [
      ['deps', 'list'],
      ['deps', 'deny', 'odd', '--reason', 'no'],
    ]) {
      const r = await here(args);
      expect(r.exitCode, args.join(' ')).toBe(2);
      expect(r.stderr).toContain('ERR_ORCH_RUN_IN_STORE');
      expect(r.stderr).toContain('--store');
    }
    expect(existsSync(runPaths(repo.root, run).events)).toBe(false);
    await writeFile(join(repo.root, '.claude-agents.yaml'), `store:\n  url: ${redis.url}\n`);
    try {
      const r = await here(['deps', 'list', '--json']);
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout).requests).toEqual([expect.objectContaining({ task: 'odd' })]);
    } finally {
      await rm(join(repo.root, '.claude-agents.yaml'));
    }
  });

  it('with no supervisor running, a decision is refused (exit 4, resume the run) and nothing is written', async () => {
    await stopChannel?.();
    stopChannel = undefined;
    await lease?.release();
    lease = undefined;
    const before = (await events()).length;
    const r = await fromElsewhere(['deps', 'deny', 'odd', '--reason', 'no']);
    expect(r.exitCode).toBe(4);
    expect(r.stderr).toContain('ERR_ORCH_SUPERVISOR_GONE');
    expect(r.stderr).toContain('orch state resume --store');
    expect((await events()).length).toBe(before);
    expect(await conn.xlen(keys.userOutbox(run))).toBe(0);
  });
});
