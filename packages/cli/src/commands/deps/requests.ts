/**
 * `orch deps list|approve|deny`. A local run's requests are read from and decided on its journal
 * here. A distributed run's (`--store`, or the config's `store.url`) are read from the store, and
 * a decision goes to its live supervisor through the user's channel: only the supervisor writes
 * that run's log, so it installs on staging, publishes it and journals, then answers.
 */
import { ERROR_CODES, ExitCode, OrchError, type ErrorCode, type RunState } from '@orch/core';
import {
  approveDeps,
  denyDeps,
  findConflicts,
  pendingRequests,
  type ApproveResult,
  type DepRequest,
  type DepsDecision,
} from '@orch/engine';
import { resolveRun } from '@orch/store';
import type { CommandIO, CommandResult } from '../../define.js';
import { whereOf } from '../common/run.js';
import { assertJournalHere, storeUrlOf, withStoreRun } from '../../run-store.js';
import { loadState } from '../state/status-view.js';

interface RunOpts {
  run?: string | undefined;
  store?: string | undefined;
  json?: boolean;
}

/** An install runs on the supervisor's side: wait for its verdict as long as an install may take. */
const DECISION_TIMEOUT_MS = 15 * 60_000;

/** This checkout's run, refused when its journal is in a store (the command needs `--store`). */
async function localRun(run: string | undefined, io: CommandIO): Promise<{ repoRoot: string; run: string }> {
  const r = await resolveRun({ ...whereOf(io), ...(run ? { run } : {}) });
  await assertJournalHere(r.repoRoot, r.run);
  return r;
}

export async function depsList(opts: RunOpts, io: CommandIO): Promise<CommandResult> {
  const url = await storeUrlOf(opts.store, io);
  if (url) return withStoreRun(url, opts.run, io, (sr) => Promise.resolve(listResult(sr.state(), opts)));
  const r = await localRun(opts.run, io);
  return listResult(await loadState(r.run, io), opts);
}

function listResult(state: RunState, opts: RunOpts): CommandResult {
  const requests = pendingRequests(state);
  const conflicts = findConflicts(requests);
  if (opts.json) return { exitCode: ExitCode.Ok, json: { run: state.run, requests, conflicts } };
  if (requests.length === 0)
    return { exitCode: ExitCode.Ok, lines: [`No pending dependency requests in run ${state.run}.`] };
  return {
    exitCode: ExitCode.Ok,
    lines: [
      ...requests.map((r) => `${r.task.padEnd(24)} ${r.spec.padEnd(30)} ${r.reason ?? ''}`),
      ...conflicts.map(
        (c) =>
          `conflict: ${c.name} is requested as ${c.requests.map((r) => `${r.spec} (${r.task})`).join(' and ')}`,
      ),
      `\nApprove with \`orch deps approve <task>\` (or --all), refuse with \`orch deps deny <task> --reason "..."\`.`,
    ],
  };
}

/**
 * Hands the decision to the run's live supervisor in the store and returns what it answered; no
 * supervisor: refused, nothing written. Its refusal comes back as the error a local decision gives.
 */
async function decideInStore<T>(url: string, decision: DepsDecision, run: string | undefined, io: CommandIO) {
  const { submitToStore } = await import('../../store-submit.js');
  const s = await submitToStore(
    url,
    decision,
    {
      run,
      precheck: ({ state }) => checkPending(state, decision),
      noSupervisor: (id) =>
        new OrchError(
          'ERR_ORCH_SUPERVISOR_GONE',
          `no supervisor of run ${id} is running to carry out the decision`,
          {
            hint: `Only the supervisor installs on staging: resume the run (\`orch state resume --store ${url} --run ${id}\`), then decide again. Nothing was written.`,
            exitCode: ExitCode.NotFinished,
          },
        ),
      ackTimeoutMs: DECISION_TIMEOUT_MS,
      refused: (detail, result) => {
        const r = (result ?? {}) as { code?: unknown; hint?: unknown };
        const code =
          typeof r.code === 'string' && r.code in ERROR_CODES
            ? (r.code as ErrorCode)
            : 'ERR_ORCH_REPORT_REFUSED';
        return new OrchError(code, detail, typeof r.hint === 'string' ? { hint: r.hint } : {});
      },
    },
    io,
  );
  return { run: s.run, queued: s.queued === true, result: s.verdict?.result as T | undefined };
}

/** A decision on requests that are not there is refused before anything is sent. */
function checkPending(state: RunState, d: DepsDecision): void {
  const pending = pendingRequests(state);
  for (const t of d.tasks ?? []) {
    if (!pending.some((r) => r.task === t)) {
      throw new OrchError('ERR_ORCH_DEPS_NONE', `Task ${t} has no pending dependency request.`, {
        hint: 'See the pending requests with `orch deps list`.',
      });
    }
  }
  if (pending.length === 0)
    throw new OrchError('ERR_ORCH_DEPS_NONE', 'There are no pending dependency requests.');
}

/**
 * No result to print: still queued (exit 4), or carried out before (the supervisor that took the
 * decision over after a crash found it journaled).
 */
function unanswered(queued: boolean, json: boolean | undefined): CommandResult {
  const exitCode = queued ? ExitCode.NotFinished : ExitCode.Ok;
  if (json) return { exitCode, json: queued ? { queued: true } : { recordedBefore: true } };
  return {
    exitCode,
    lines: [
      queued
        ? 'handed to the supervisor; it has not answered yet (see `orch deps list` and `orch state status`)'
        : 'the supervisor had carried out this decision before (see `orch deps list`)',
    ],
  };
}

export async function depsApprove(
  task: string | undefined,
  opts: RunOpts & { all?: boolean },
  io: CommandIO,
): Promise<CommandResult> {
  if (!task && !opts.all) {
    throw new OrchError('ERR_ORCH_USAGE', 'Name the task whose request to approve, or pass --all.', {
      hint: 'See the pending requests with `orch deps list`.',
      exitCode: ExitCode.Usage,
    });
  }
  const url = await storeUrlOf(opts.store, io);
  let res: ApproveResult | undefined;
  let queued = false;
  if (url) {
    const decision: DepsDecision = {
      kind: 'deps',
      decision: 'approve',
      ...(opts.all ? {} : { tasks: [task as string] }),
    };
    ({ result: res, queued } = await decideInStore<ApproveResult>(url, decision, opts.run, io));
  } else {
    const r = await localRun(opts.run, io);
    res = await approveDeps(r.repoRoot, r.run, opts.all ? 'all' : [task as string]);
  }
  if (!res) return unanswered(queued, opts.json);
  if (opts.json) return { exitCode: ExitCode.Ok, json: res };
  return {
    exitCode: ExitCode.Ok,
    lines: [
      `Installed ${[...new Set(res.installed.map((i) => i.spec))].join(', ')} on staging with \`${res.command.join(' ')}\` (${res.commit.slice(0, 12)}).`,
      `Environment hash is now ${res.envHash}; the blocked workers start again from the new staging tip.`,
    ],
  };
}

export async function depsDeny(
  task: string,
  opts: RunOpts & { reason: string },
  io: CommandIO,
): Promise<CommandResult> {
  const url = await storeUrlOf(opts.store, io);
  let denied: DepRequest[] | undefined;
  let queued = false;
  if (url) {
    const decision: DepsDecision = { kind: 'deps', decision: 'deny', tasks: [task], reason: opts.reason };
    const s = await decideInStore<{ denied: DepRequest[] }>(url, decision, opts.run, io);
    ({ queued } = s);
    denied = s.result?.denied;
  } else {
    const r = await localRun(opts.run, io);
    denied = await denyDeps(r.repoRoot, r.run, task, opts.reason);
  }
  if (!denied) return unanswered(queued, opts.json);
  if (opts.json) return { exitCode: ExitCode.Ok, json: { task, denied, reason: opts.reason } };
  return {
    exitCode: ExitCode.Ok,
    lines: [`Denied ${denied.map((d) => d.spec).join(', ')} for ${task}; it starts again without it.`],
  };
}
