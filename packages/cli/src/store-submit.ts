/**
 * The user's reports and messages (`orch task …`, `orch mailbox send`) to a run in a Redis store,
 * from any machine, with the rules of the local run folder: signed with the user token (only a
 * holder of the run's key makes it); to a live supervisor (its lease is held) through the run's
 * user outbox in Redis, waiting for its verdict; when none runs, straight into the run log (the
 * user is trusted) under a lease taken for that one write, with a note that the run must be
 * resumed to act on it.
 */
import { hostname } from 'node:os';
import {
  ExitCode,
  OrchError,
  ERR_REPORT_REFUSED,
  type OutboxBody,
  type OutboxItem,
  type RunState,
} from '@orch/core';
import type { CommandIO } from './define.js';
import { requireRunKey, withStoreRun, type StoreRun } from './run-store.js';

/** How long a command waits for the supervisor's verdict before saying it is still queued. */
const ACK_TIMEOUT_MS = 15_000;
/** The lease a user's direct write holds: long enough for one append. */
const WRITE_LEASE_MS = 5_000;

export interface StoreSubmitOpts {
  run?: string | undefined;
  task?: string | undefined;
  from?: string | undefined;
  /** Refused before anything is written, with the run's state (the user's commands only). */
  precheck?: (run: { state: RunState; task?: string; store: StoreRun }) => void;
  /** Only a live supervisor may carry the item out: without one, this error (nothing is written). */
  noSupervisor?: (run: string) => OrchError;
  /** How long to wait for the verdict (default 15 s). */
  ackTimeoutMs?: number;
  /** The error of a refusal (default ERR_ORCH_REPORT_REFUSED); `result` is the verdict's. */
  refused?: (detail: string, result: unknown) => OrchError;
}

export interface StoreSubmitted {
  run: string;
  task?: string;
  verdict?: { ok: boolean; detail: string; result?: unknown };
  queued?: boolean;
  offline?: boolean;
}

export async function submitToStore(
  url: string,
  body: OutboxBody,
  opts: StoreSubmitOpts,
  io: CommandIO,
): Promise<StoreSubmitted> {
  if (io.env.ORCH_TASK_TOKEN) {
    throw new OrchError('ERR_ORCH_USAGE', "--store is for the user's own reports and messages", {
      hint: 'Inside a worker, leave out --store: a worker reports through its own channel.',
      exitCode: ExitCode.Usage,
    });
  }
  return withStoreRun(url, opts.run, io, async (sr) => {
    const [{ assertRunActive, acceptItem, USER_CHANNEL }, { newItemId, userToken, assertSafeName }, d] =
      await Promise.all([import('@orch/engine'), import('@orch/store'), import('@orch/distributed')]);
    const state = sr.state();
    const taskId = opts.task ?? (io.env.ORCH_TASK || undefined);
    const task = taskId !== undefined ? assertSafeName(taskId, 'task id') : undefined;
    assertRunActive(state);
    opts.precheck?.({ state, ...(task ? { task } : {}), store: sr });
    const key = requireRunKey(sr);
    const item: OutboxItem = {
      v: 1,
      id: newItemId(),
      ...(task ? { task } : {}),
      token: userToken(key),
      ack: true,
      body: body.kind === 'mail' && opts.from !== undefined ? { ...body, from: opts.from } : body,
    };
    const refused = (detail: string, result?: unknown): OrchError =>
      opts.refused?.(detail, result) ??
      new OrchError(ERR_REPORT_REFUSED, `refused: ${detail}`, {
        hint: 'Check the task id, the recipient and the run with `orch state status --store …`.',
      });
    const done = { run: sr.run, ...(task ? { task } : {}) };
    if (opts.noSupervisor && !(await sr.supervisor())) throw opts.noSupervisor(sr.run);
    if (!(await sr.supervisor())) {
      // No supervisor: the user's item goes into the log directly, under a lease of its own.
      const lease = await d.SupervisorLease.acquire(sr.redis, sr.keys, sr.run, {
        ttlMs: WRITE_LEASE_MS,
        holder: `${hostname()}:${process.pid} (a user command)`,
      }).catch((e: unknown) => {
        if (e instanceof OrchError && e.code === 'ERR_ORCH_SUPERVISOR_LEASE') return undefined;
        throw e;
      });
      if (lease) {
        try {
          const log = new d.RedisRunLog(sr.redis, sr.keys, sr.run, { lease, key });
          await log.refresh();
          const verdict = await acceptItem(
            '',
            log.state as RunState,
            USER_CHANNEL,
            item,
            (ev) => log.append(ev),
            sr.mailbox,
          );
          if (!verdict.ok) throw refused(verdict.detail);
          return { ...done, verdict, offline: true };
        } finally {
          await lease.release();
        }
      }
      // A supervisor took the run meanwhile: hand it the item.
    }
    await sr.userOutbox.drop(item);
    const ack = await sr.userOutbox.waitForAck(item.id, opts.ackTimeoutMs ?? ACK_TIMEOUT_MS);
    if (!ack) return { ...done, queued: true };
    if (!ack.ok) throw refused(ack.detail, ack.result);
    return { ...done, verdict: ack };
  });
}
