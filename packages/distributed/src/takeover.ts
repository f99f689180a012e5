/**
 * Taking a distributed run over after its supervisor died, from any machine: the lease is taken
 * once it expired (refused, naming the holder, while it is live), the run log is read again under
 * the new lease, and each open task is reconciled against what the store knows of its attempt (the
 * worker record its host keeps, and whether that host still beats), as the local resume reconciles
 * the journal against git and tmux. The dead supervisor is journaled as stopped.
 */
import { hostname } from 'node:os';
import { isTerminalPhase, isTerminalStatus, type RunState, type TaskState } from '@orch/core';
import { sessionName } from '@orch/tmux';
import type { Redis } from 'ioredis';
import { listHosts } from './hosts.js';
import type { Keys } from './keys.js';
import { SupervisorLease } from './lease.js';
import { RedisRunLog } from './run-log.js';
import { parseWorkerRecord, type WorkerRecord } from './worker-state.js';

/** What the store knows of a task's current attempt. */
export interface AttemptFacts {
  record?: WorkerRecord;
  /** The record's host still writes its heartbeat. */
  hostAlive: boolean;
}

/** The same actions as the local resume's plan (docs/resume.md), judged on the store alone. */
export type StoreResumeAction = 'watch' | 'verify' | 'restart' | 'wait' | 'schedule' | 'none';

export interface StoreResumeItem {
  task: string;
  status: TaskState['status'];
  action: StoreResumeAction;
  detail: string;
  host?: string;
}

export interface StoreResumePlan {
  run: string;
  phase: RunState['phase'];
  finished: boolean;
  items: StoreResumeItem[];
}

/** Pure: the plan for `state` given the facts of each task's attempt. */
export function reconcileWithStore(
  state: RunState,
  facts: Readonly<Record<string, AttemptFacts>>,
): StoreResumePlan {
  // As the local resume: a failed or stopped-for-a-person run is taken up again.
  const reopen = state.outcome === 'failed' || state.outcome === 'needs_attention';
  const finished = state.outcome === 'succeeded' || (isTerminalPhase(state.phase) && !reopen);
  const items = state.order.map((id): StoreResumeItem => {
    const t = state.tasks[id] as TaskState;
    const f = facts[id] ?? { hostAlive: false };
    const host = f.record?.host;
    const item = (action: StoreResumeAction, detail: string): StoreResumeItem => ({
      task: id,
      status: t.status,
      action,
      detail,
      ...(host ? { host } : {}),
    });
    if (isTerminalStatus(t.status)) return item('none', `${t.status}`);
    if (t.status === 'pending' || t.status === 'ready') return item('schedule', 'not started yet');
    if (t.status === 'blocked' || t.status === 'needs_attention') return item('wait', 'waits for a decision');
    if (t.status === 'verifying' || t.status === 'merging' || t.report?.status === 'done')
      return item('verify', 'reported done: verify its branch from the remote again');
    const r = f.record;
    if (!r) return item('restart', 'the store has no attempt of it: start it again');
    if (r.state === 'exited')
      return item(
        'restart',
        `its attempt ended on ${host ?? 'its host'} (exit ${r.exitStatus ?? 'unknown'}) without a report: start it again`,
      );
    if (r.state === 'queued') return item('watch', 'its attempt waits for a host');
    if (f.hostAlive) return item('watch', `its attempt runs on ${host ?? 'a host'}`);
    return item(
      'watch',
      `its host ${host ?? '?'} stopped beating: BullMQ hands the attempt to another host once its lock lapses`,
    );
  });
  return { run: state.run, phase: state.phase, finished, items };
}

/** Reads the worker record of each open task's attempt and which hosts beat. */
export async function attemptFacts(
  redis: Redis,
  keys: Keys,
  state: RunState,
): Promise<Record<string, AttemptFacts>> {
  const alive = new Set((await listHosts(redis, keys)).map((h) => h.name));
  const out: Record<string, AttemptFacts> = {};
  for (const id of state.order) {
    const t = state.tasks[id];
    if (!t?.session || isTerminalStatus(t.status)) continue;
    const record = parseWorkerRecord(await redis.hgetall(keys.worker(state.run, t.session)));
    out[id] = { ...(record ? { record } : {}), hostAlive: record?.host ? alive.has(record.host) : false };
  }
  return out;
}

/**
 * The attempt each open task's worker record in the store names (an attempt the dead supervisor
 * queued may never have been journaled): a resume records it instead of starting a twin.
 */
export async function launchedInStore(
  redis: Redis,
  keys: Keys,
  state: RunState,
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const id of state.order) {
    const t = state.tasks[id];
    if (!t || isTerminalStatus(t.status)) continue;
    const record = parseWorkerRecord(await redis.hgetall(keys.worker(state.run, sessionName(state.run, id))));
    if (record && record.attempt > 0) out.set(id, record.attempt);
  }
  return out;
}

export interface TakeOver {
  lease: SupervisorLease;
  /** The run log under the new lease: this process now appends. */
  log: RedisRunLog;
  plan: StoreResumePlan;
}

/**
 * Takes `run` over: the lease (throws ERR_ORCH_SUPERVISOR_LEASE naming the holder while it is
 * live), the log under it, the dead supervisor journaled as stopped, and the reconcile plan. The
 * caller continues the supervisor with `log` and `lease`, or releases the lease.
 */
export async function takeOverRun(
  redis: Redis,
  keys: Keys,
  run: string,
  opts: { key: Uint8Array; holder?: string; ttlMs?: number; onLost?: () => void },
): Promise<TakeOver> {
  const lease = await SupervisorLease.acquire(redis, keys, run, {
    holder: opts.holder ?? `${hostname()}:${process.pid}`,
    ...(opts.ttlMs !== undefined ? { ttlMs: opts.ttlMs } : {}),
    ...(opts.onLost ? { onLost: opts.onLost } : {}),
  });
  try {
    const log = new RedisRunLog(redis, keys, run, { lease, key: opts.key });
    await log.refresh();
    const state = log.state as RunState;
    if (state.supervisorAlive) {
      // Its lease expired without a release: it died (or lost the store) without saying so.
      await log.append({
        type: 'supervisor.stopped',
        pid: state.supervisorPid ?? 0,
        reason: `its lease expired; taken over by ${opts.holder ?? `${hostname()}:${process.pid}`}`,
      });
    }
    const current = log.state as RunState;
    return { lease, log, plan: reconcileWithStore(current, await attemptFacts(redis, keys, current)) };
  } catch (e) {
    await lease.release();
    throw e;
  }
}
