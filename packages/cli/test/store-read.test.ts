/**
 * The read commands on a run kept in Redis, from a folder that is no checkout at all (another
 * machine): the run is written into a real redis-server as its supervisor writes it.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEventInput } from '@orch/core';
import {
  RedisRunLog,
  SupervisorLease,
  connectStore,
  keysFor,
  storeFromUrl,
  type Keys,
} from '@orch/distributed';
import { runStarted, startRedis, type RedisFixture } from '@orch/test-utils';
import { orchInProcess } from './in-process.js';

let redis: RedisFixture;
let conn: Awaited<ReturnType<typeof connectStore>>;
let elsewhere: string;
let env: Record<string, string>;
const keys: Keys = keysFor();

beforeAll(async () => {
  redis = await startRedis();
  conn = await connectStore(await storeFromUrl(redis.url, { ORCH_REDIS_PASSWORD: redis.password }));
  elsewhere = await mkdtemp(join(tmpdir(), 'orch-elsewhere-'));
  env = { ORCH_REDIS_PASSWORD: redis.password, ORCH_RUN: '', ORCH_TASK: '', ORCH_TASK_TOKEN: '' };
});
afterAll(async () => {
  conn.disconnect();
  await redis.stop();
  await rm(elsewhere, { recursive: true, force: true });
});

interface Seeded {
  run: string;
  key: Buffer;
  keyFile: string;
  lease: SupervisorLease;
  log: RedisRunLog;
}

/** A run as its supervisor writes it: registered, plan stored, events appended under the lease. */
async function seedRun(
  tasks: string[],
  events: RunEventInput[],
  o: { release?: boolean; ttlMs?: number; at?: number } = {},
): Promise<Seeded> {
  const run = `r${randomBytes(4).toString('hex')}`;
  const key = randomBytes(32);
  const lease = await SupervisorLease.acquire(conn, keys, run, {
    ttlMs: o.ttlMs ?? 5_000,
    holder: 'sup-host:4242',
  });
  const log = new RedisRunLog(conn, keys, run, { lease, key });
  await log.append(runStarted(tasks, { run }));
  for (const ev of events) await log.append(ev);
  await conn.set(keys.plan(run), `tasks:\n${tasks.map((t) => `  - id: ${t}\n`).join('')}`);
  await conn.zadd(keys.runs(), o.at ?? Date.now(), run);
  if (o.release !== false) await lease.release();
  const keyFile = join(elsewhere, `${run}.key`);
  await writeFile(keyFile, `${key.toString('hex')}\n`);
  await chmod(keyFile, 0o600);
  return { run, key, keyFile, lease, log };
}

const orch = (args: string[], extra: Record<string, string> = {}) =>
  orchInProcess(args, { cwd: elsewhere, env: { ...env, ...extra } });

describe('orch state status --store', () => {
  it('shows a run of the store from a folder that is not a checkout, with --json in the local shape', async () => {
    const s = await seedRun(['a', 'b'], [{ type: 'task.ready', task: 'a' }]);
    const r = await orch(['state', 'status', '--store', redis.url, '--run', s.run, '--json'], {
      ORCH_RUN_KEY_FILE: s.keyFile,
    });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const j = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(j.run).toBe(s.run);
    expect(j.supervisorAlive).toBe(false);
    expect(j.journal).toEqual({ unsignedLines: 0 });
    expect((j.tasks as { id: string; status: string }[]).map((t) => [t.id, t.status])).toEqual([
      ['a', 'ready'],
      ['b', 'pending'],
    ]);
    const human = await orch(['state', 'status', '--store', redis.url, '--run', s.run]);
    expect(human.exitCode).toBe(0);
    expect(human.stdout).toContain(`Run ${s.run}`);
    expect(human.stdout).toContain('signatures not checked');
  });

  it('defaults to the newest run of the store; an unknown run is the local error code', async () => {
    const older = await seedRun(['x'], [], { at: Date.now() - 60_000 });
    const newer = await seedRun(['y'], [], { at: Date.now() + 60_000 });
    const r = await orch(['state', 'status', '--store', redis.url, '--json']);
    expect(JSON.parse(r.stdout).run).toBe(newer.run);
    expect(older.run).not.toBe(newer.run);
    const missing = await orch(['state', 'status', '--store', redis.url, '--run', 'nope', '--json']);
    expect(missing.exitCode).not.toBe(0);
    expect(missing.stdout + missing.stderr).toContain('ERR_ORCH_RUN_NOT_FOUND');
  });

  it('a store that cannot be reached is ERR_ORCH_STORE_UNREACHABLE with a hint, not a hang', async () => {
    const r = await orch(['state', 'status', '--store', 'redis://127.0.0.1:1/0']);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain('ERR_ORCH_STORE_UNREACHABLE');
    expect(r.stderr).toMatch(/Check the host and port/);
  });

  it('a live lease is the supervisor being alive', async () => {
    const s = await seedRun(['a'], [], { release: false });
    const r = await orch(['state', 'status', '--store', redis.url, '--run', s.run, '--json']);
    expect(JSON.parse(r.stdout).supervisorAlive).toBe(true);
    await s.lease.release();
  });
});

describe('orch wait --store', () => {
  it('follows the stream until the run ends', async () => {
    const s = await seedRun(['a'], [], { release: false });
    const waiting = orch(['wait', '--store', redis.url, '--run', s.run, '--timeout', '20', '--json'], {
      ORCH_RUN_KEY_FILE: s.keyFile,
    });
    await new Promise((r) => setTimeout(r, 300));
    await s.log.append({ type: 'run.phase', phase: 'failed', reason: 'stopped by the test' });
    const r = await waiting;
    const j = JSON.parse(r.stdout) as { run: string; phase: string };
    expect(j).toMatchObject({ run: s.run, phase: 'failed' });
    await s.lease.release();
  });

  it('gives up at the timeout with the state as it is', async () => {
    const s = await seedRun(['a'], []);
    const r = await orch(['wait', '--store', redis.url, '--run', s.run, '--timeout', '0.3']);
    expect(r.stdout).toContain(`Run ${s.run} is still`);
  });
});

const started = (task: string, session = `orch-${task}`): RunEventInput => ({
  type: 'task.started',
  task,
  attempt: 1,
  session,
  agent: 'shell',
  promptPath: 'p',
  logPath: 'l',
});

describe('orch mailbox --store', () => {
  it("the user's message goes into the store's mailbox when no supervisor runs; check and history read it", async () => {
    const s = await seedRun(['a', 'b'], []);
    const withKey = { ORCH_RUN_KEY_FILE: s.keyFile };
    const sent = await orch(
      ['mailbox', 'send', 'a', 'keep /users paginated', '--store', redis.url, '--run', s.run, '--json'],
      withKey,
    );
    expect(sent.stderr).toBe('');
    expect(JSON.parse(sent.stdout)).toMatchObject({ from: 'user', to: 'a', body: 'keep /users paginated' });
    const peek = await orch(['mailbox', 'peek', 'a', '--store', redis.url, '--run', s.run, '--json']);
    expect(JSON.parse(peek.stdout)).toEqual({ inbox: 'a', unread: 1 });
    const check = await orch(['mailbox', 'check', 'a', '--store', redis.url, '--run', s.run, '--json']);
    expect((JSON.parse(check.stdout) as { body: string }[]).map((m) => m.body)).toEqual([
      'keep /users paginated',
    ]);
    const again = await orch(['mailbox', 'check', 'a', '--store', redis.url, '--run', s.run]);
    expect(again.stdout).toContain('no unread messages for a');
    const hist = await orch(['mailbox', 'history', '--store', redis.url, '--run', s.run, '--json']);
    expect((JSON.parse(hist.stdout) as { to: string }[]).map((m) => m.to)).toEqual(['a']);
  });

  it('a message is refused without the run key, and to an inbox the run does not have', async () => {
    const s = await seedRun(['a'], []);
    const noKey = await orch(['mailbox', 'send', 'a', 'hi', '--store', redis.url, '--run', s.run]);
    expect(noKey.exitCode).not.toBe(0);
    expect(noKey.stderr).toContain('ERR_ORCH_RUN_KEY');
    expect(noKey.stderr).toContain('ORCH_RUN_KEY_FILE');
    const wrong = await orch(['mailbox', 'send', 'zz', 'hi', '--store', redis.url, '--run', s.run], {
      ORCH_RUN_KEY_FILE: s.keyFile,
    });
    expect(wrong.stderr).toContain('ERR_ORCH_UNKNOWN_RECIPIENT');
    expect(await conn.xlen(keys.mailboxHistory(s.run))).toBe(0);
  });
});

describe('orch task --store', () => {
  it("the user's report is journaled in the store when no supervisor runs", async () => {
    const s = await seedRun(['a'], [{ type: 'task.ready', task: 'a' }, started('a')]);
    const r = await orch(
      ['task', 'done', '--task', 'a', '--summary', 'by hand', '--store', redis.url, '--run', s.run, '--json'],
      { ORCH_RUN_KEY_FILE: s.keyFile },
    );
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({
      run: s.run,
      task: 'a',
      offline: true,
      event: { type: 'task.reported' },
    });
    // The entry is signed with the run key: the supervisor's reader (with the key) takes it.
    const reader = new RedisRunLog(conn, keys, s.run, { key: s.key });
    await reader.refresh();
    expect(reader.skipped).toBe(0);
    expect((await reader.history()).at(-1)).toMatchObject({
      type: 'task.reported',
      status: 'done',
      summary: 'by hand',
    });
    // The lease the command took for its write is gone again.
    expect(await conn.exists(keys.lease(s.run))).toBe(0);
  });

  it('to a live supervisor it goes through the user outbox and waits for the verdict', async () => {
    const s = await seedRun(['a'], [{ type: 'task.ready', task: 'a' }, started('a')], { release: false });
    const { RedisMailbox, RedisUserOutbox, serveUserOutbox } = await import('@orch/distributed');
    const outbox = new RedisUserOutbox(conn, keys, s.run);
    const reporting = orch(
      ['task', 'progress', 'halfway', '--task', 'a', '--store', redis.url, '--run', s.run, '--json'],
      { ORCH_RUN_KEY_FILE: s.keyFile },
    );
    // The supervisor's side: takes the item, checks the user token, journals it, answers.
    const serve = {
      key: s.key,
      state: () => s.log.state!,
      append: (ev: RunEventInput) => s.log.append(ev),
      mailbox: new RedisMailbox(conn, keys, s.run, { tasks: ['a'] }),
      seen: new Set<string>(),
    };
    let taken = 0;
    for (let i = 0; i < 100 && taken === 0; i++) {
      taken = await serveUserOutbox(outbox, serve);
      if (taken === 0) await new Promise((r) => setTimeout(r, 50));
    }
    const r = await reporting;
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({
      task: 'a',
      event: { type: 'task.progress', message: 'halfway' },
    });
    expect(await conn.xlen(keys.userOutbox(s.run))).toBe(0);
    await s.lease.release();
  });

  it('a report for a task the run does not have is refused before anything is written', async () => {
    const s = await seedRun(['a'], []);
    const before = await conn.xlen(keys.events(s.run));
    const r = await orch(
      ['task', 'fail', '--reason', 'no', '--task', 'zz', '--store', redis.url, '--run', s.run],
      {
        ORCH_RUN_KEY_FILE: s.keyFile,
      },
    );
    expect(r.stderr).toContain('ERR_ORCH_UNKNOWN_TASK');
    expect(await conn.xlen(keys.events(s.run))).toBe(before);
  });
});

describe('orch dashboard --store', () => {
  it('shows each task with the host its attempt runs on, as JSON and as a plain frame', async () => {
    const s = await seedRun(
      ['api', 'ui'],
      [{ type: 'task.ready', task: 'api' }, started('api', 'orch-s-api')],
    );
    await conn.hset(keys.worker(s.run, 'orch-s-api'), {
      state: 'running',
      job: 'j1',
      attempt: '1',
      host: 'builder-2',
      size: '10',
    });
    await conn.set(keys.workerTail(s.run, 'orch-s-api'), 'compiling\nlinking\n');
    const j = await orch(['dashboard', '--store', redis.url, '--run', s.run, '--json']);
    expect(j.exitCode).toBe(0);
    const state = JSON.parse(j.stdout) as { run: string; hosts: Record<string, string>; order: string[] };
    expect(state).toMatchObject({ run: s.run, order: ['api', 'ui'], hosts: { api: 'builder-2' } });
    const frame = await orch(['dashboard', '--store', redis.url, '--run', s.run, '--once']);
    expect(frame.exitCode).toBe(0);
    const head = frame.stdout.split('\n').find((l) => l.includes('TASK')) ?? '';
    expect(head).toContain('HOST');
    expect(frame.stdout.split('\n').find((l) => l.includes('api') && l.includes('running'))).toContain(
      'builder-2',
    );
    const workers = await orch(['workers', '--store', redis.url, '--run', s.run, '--json']);
    expect(JSON.parse(workers.stdout).live).toEqual([
      { task: 'api', status: 'running', host: 'builder-2', lines: ['compiling', 'linking'] },
    ]);
  });
});

describe('orch state resume --store', () => {
  it('refuses while the lease is live, then takes the run over and reconciles it against the store', async () => {
    const at = new Date().toISOString();
    const s = await seedRun(
      ['a', 'b', 'c', 'd'],
      [
        { type: 'supervisor.started', pid: 4242, host: 'sup-host' },
        ...['a', 'b', 'c'].flatMap((t): RunEventInput[] => [
          { type: 'task.ready', task: t },
          started(t, `w-${t}`),
        ]),
        {
          type: 'task.reported',
          task: 'c',
          status: 'done',
          evidence: { source: 'status-command', at, detail: 'reported by the worker (attempt 1)' },
        },
      ],
    );
    // a runs on a host that beats; b's attempt ended without a report.
    await conn.hset(keys.host('h1'), { slots: '2', active: '1', beatAt: String(Date.now()), startedAt: at });
    await conn.sadd(keys.hosts(), 'h1');
    await conn.hset(keys.worker(s.run, 'w-a'), {
      state: 'running',
      job: 'j-a',
      attempt: '1',
      host: 'h1',
      size: '0',
    });
    await conn.hset(keys.worker(s.run, 'w-b'), {
      state: 'exited',
      job: 'j-b',
      attempt: '1',
      host: 'h2',
      size: '0',
      exitStatus: '1',
    });
    // The supervisor died: its lease is left to expire.
    await conn.set(
      keys.lease(s.run),
      JSON.stringify({ token: 'x', holder: 'sup-host:4242', since: at }),
      'PX',
      700,
    );
    const withKey = { ORCH_RUN_KEY_FILE: s.keyFile };

    const refused = await orch(['state', 'resume', '--store', redis.url, '--run', s.run], withKey);
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toContain('ERR_ORCH_SUPERVISOR_LEASE');
    expect(refused.stderr).toContain('sup-host:4242');

    for (let i = 0; i < 100 && (await conn.exists(keys.lease(s.run))) === 1; i++)
      await new Promise((r) => setTimeout(r, 50));

    const dry = await orch(['state', 'resume', '--store', redis.url, '--run', s.run, '--dry-run', '--json']);
    const plan = JSON.parse(dry.stdout) as { items: { task: string; action: string; host?: string }[] };
    expect(plan.items.map((i) => [i.task, i.action, i.host ?? null])).toEqual([
      ['a', 'watch', 'h1'],
      ['b', 'restart', 'h2'],
      ['c', 'verify', null],
      ['d', 'schedule', null],
    ]);
    // A dry run takes nothing.
    expect(await conn.exists(keys.lease(s.run))).toBe(0);

    const noKey = await orch(['state', 'resume', '--store', redis.url, '--run', s.run]);
    expect(noKey.stderr).toContain('ERR_ORCH_RUN_KEY');
    const before = await conn.xlen(keys.events(s.run));

    // Away from the run's checkout, continuing it needs a work directory and the remote: refused,
    // naming both, before anything is taken or written (the continuation: takeover-run.e2e.test.ts).
    const took = await orch(['state', 'resume', '--store', redis.url, '--run', s.run, '--json'], withKey);
    expect(took.exitCode).toBe(2);
    expect(JSON.parse(took.stdout)).toMatchObject({ error: { code: 'ERR_ORCH_USAGE' } });
    expect(took.stdout).toContain('--workdir DIR and --remote GIT_URL');
    expect(await conn.xlen(keys.events(s.run))).toBe(before);
    expect(await conn.exists(keys.lease(s.run))).toBe(0);
  });
});
