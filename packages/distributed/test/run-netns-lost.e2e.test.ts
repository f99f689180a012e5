/**
 * A distributed run across network namespaces (`netns-run.ts`, as in `run-netns.e2e`) that loses
 * machines: a host killed mid-run (every process in its namespace, then the namespace) while it runs
 * an attempt, and later the supervisor's whole node; a supervisor on another node (`sup2`, which sees
 * none of the first one's files) takes the run over and finishes it. One run checks both kills'
 * consequences: the lost attempt re-dispatched, nothing of the lost host left in Redis, every task
 * merged once, staging's tree that of an uninterrupted run (computed), the base pushed on the remote.
 */
import { chmod, copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunState } from '@orch/core';
import { runPaths } from '@orch/store';
import { listHosts } from '../src/hosts.js';
import { hostOwned } from '../src/keys.js';
import { LANES, RUN_TIMEOUT_MS, git, keys, netnsRunForFile, placedOf, sleep, trouble } from './netns-run.js';

const w = netnsRunForFile({ supervisors: 2 });

describe('orch run --store --remote across network namespaces, losing machines', () => {
  it('one host killed mid-run, then the supervisor SIGKILLed (its whole node) and resumed from another namespace: the lost attempt runs elsewhere, only its host’s history is left in Redis, the run finishes there with every task merged once, the same tree, the base pushed on the remote', async () => {
    const { c, conn } = w;
    const before = (await conn.zrange(keys.runs(), '-1', '-1'))[0];
    const repo = await w.checkout('machines-lost');
    const running = c.spawnOrch('sup', w.runArgs(), { cwd: repo, timeoutMs: RUN_TIMEOUT_MS });
    running.catch(() => undefined);

    // The host of the first second-wave attempt is lost while that attempt sleeps.
    const { run, events: seen } = await w.whenJournal(
      'a second-wave attempt placed on a host',
      (evs) => placedOf(evs).some(([t]) => t.startsWith('b')),
      before,
    );
    const [lostTask, victim] = placedOf(seen).find(([t]) => t.startsWith('b')) ?? ['', ''];
    await c.kill(victim);

    // The supervisor's machine is lost once the first wave is merged and the lost attempt was
    // handed to a surviving host, with the run still under way.
    const { events: atKill } = await w.whenJournal(
      'the first wave merged and the lost attempt placed again',
      (evs) =>
        LANES.every((i) => evs.some((e) => e.type === 'task.merged' && e.task === `a${i}`)) &&
        placedOf(evs).filter(([t]) => t === lostTask).length === 2,
      before,
    );
    // The run's key, copied to the other supervisor machine as the user would (owner-only).
    const keyFile = join(c.dir('sup2'), 'run.key');
    await copyFile(runPaths(repo, run).key, keyFile);
    await chmod(keyFile, 0o600);
    // Its commits (merges) are made with that machine's user's identity.
    await writeFile(
      join(c.dir('sup2'), '.gitconfig'),
      '[user]\n\tname = sup2\n\temail = sup2@orch.invalid\n',
    );
    await c.kill('sup');
    await running.catch(() => undefined);
    expect(atKill.some((e) => e.type === 'run.finished')).toBe(false);
    expect((await w.history(run)).events.some((e) => e.type === 'run.finished')).toBe(false);

    const resume = [
      ...['state', 'resume', '--run', run, '--store', c.redis.url, '--remote', c.remote.url],
      ...['--workdir', join(c.dir('sup2'), 'work'), '--json'],
    ];
    const env = { ORCH_RUN_KEY_FILE: keyFile };
    // While the dead supervisor's lease is live, a second supervisor is refused, naming the holder.
    const live = (await conn.pttl(keys.lease(run))) > 3_000;
    const early = live ? await c.orch('sup2', resume, { env, timeoutMs: 60_000 }) : undefined;
    if (early) {
      expect(early.exitCode).not.toBe(0);
      expect(`${early.stdout}${early.stderr}`).toContain('ERR_ORCH_SUPERVISOR_LEASE');
    }
    for (const until = Date.now() + 60_000; (await conn.exists(keys.lease(run))) === 1;) {
      if (Date.now() > until) throw new Error('the dead supervisor’s lease did not expire');
      await sleep(200);
    }
    const r = await c.orch('sup2', resume, { env, timeoutMs: RUN_TIMEOUT_MS });
    const state = JSON.parse(r.stdout) as RunState;
    expect({
      exit: r.exitCode,
      outcome: state.outcome,
      reason: state.reason,
      trouble: trouble((await w.history(run)).events),
    }).toEqual({ exit: 0, outcome: 'succeeded', reason: undefined, trouble: [] });
    expect(state.run).toBe(run);
    const { events } = await w.history(run);
    expect(await w.expectFinished(run, events)).toBe(w.referenceTree);
    expect(events.filter((e) => e.type === 'supervisor.started').length).toBeGreaterThanOrEqual(2);

    // The lost attempt was handed to a surviving host (the same attempt: no retry counted), and
    // nothing ran on the lost host after it was gone.
    const lost = events.flatMap((e) => (e.type === 'task.placed' && e.task === lostTask ? [e] : []));
    expect(lost.map((e) => e.attempt)).toEqual([1, 1]);
    expect(lost[0]?.host).toBe(victim);
    expect(c.hosts.filter((h) => h !== victim)).toContain(lost[1]?.host);
    const killedAt = events.findIndex((e) => e === lost[1]);
    expect(placedOf(events.slice(killedAt)).filter(([, h]) => h === victim)).toEqual([]);

    // Promoted from away from the user's checkout: the base branch pushed on the remote as a
    // fast-forward to staging; the user's checkout (on the lost machine) is untouched.
    const staging = await c.remote.git('rev-parse', `refs/heads/orch/${run}/staging`);
    expect(await c.remote.git('rev-parse', 'refs/heads/main')).toBe(staging);
    expect(await git(repo, 'rev-parse', 'HEAD')).toBe(w.base);

    // What a host owns in the store (keys.ts, hostOwned) is gone once its heartbeat expired and a
    // reader listed the hosts (as `orch hosts` does): its record, its name in the hosts set, its
    // BullMQ worker connections and job locks. What is left naming it is history (the journal's
    // task.placed, finished jobs' results).
    for (const until = Date.now() + 30_000; (await listHosts(conn, keys)).some((h) => h.name === victim);) {
      if (Date.now() > until) throw new Error(`the lost host's record did not expire`);
      await sleep(200);
    }
    const owned = hostOwned(keys, victim);
    for (const k of owned.keys) expect(await conn.exists(k)).toBe(0);
    for (const [set, member] of owned.members) expect(await conn.sismember(set, member)).toBe(0);
    expect((await listHosts(conn, keys)).map((h) => h.name).sort()).toEqual(
      c.hosts.filter((h) => h !== victim),
    );
    const all = await w.storeKeys();
    const named = new RegExp(`(^|[^a-z0-9])${victim}($|[^a-z0-9])`);
    expect(all.filter((k) => named.test(k))).toEqual([]);
    expect(all.filter((k) => k.endsWith(':lock'))).toEqual([]);
    const clients = String(await conn.client('LIST'))
      .split('\n')
      .map((l) => /(?:^| )name=(\S*)/.exec(l)?.[1] ?? '');
    expect(clients.filter((n) => named.test(n))).toEqual([]);
    // The run's worker records say where each attempt ended: never the lost host.
    const records = all.filter((k) => k.startsWith(`${keys.events(run).replace(/events$/, '')}worker:`));
    for (const k of records) expect((await conn.hget(k, 'host')) ?? '').not.toBe(victim);
  }, 400_000);
});
