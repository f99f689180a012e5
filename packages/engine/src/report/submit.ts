/**
 * How `orch task …` and `orch mailbox send` reach the supervisor. Inside a worker (ORCH_TASK_TOKEN
 * set) they speak only for the worker's own task: the item goes into its task channel's outbox and
 * the supervisor checks the token before journaling it. From the user's shell they go through the
 * run's user outbox to a live supervisor, or, when none runs, straight into the journal (the user
 * is trusted), with a note that the run must be resumed to act on them.
 */
import { readFile } from 'node:fs/promises';
import {
  ExitCode,
  ERR_NOT_YOUR_TASK,
  ERR_REPORT_REFUSED,
  ERR_RUN_KEY,
  OrchError,
  sameSecret,
  type OutboxBody,
  type OutboxItem,
  isProcessAlive,
} from '@orch/core';
import {
  appendEvent,
  dropItem,
  dropPaths,
  dropWorkerItem,
  newItemId,
  readRunKey,
  resolveRepoRoot,
  runPaths,
  taskChannelPaths,
  userToken,
  waitForAck,
} from '@orch/store';
import { USER_CHANNEL, acceptItem, type Verdict } from '../supervisor/intake.js';
import { assertRunActive, loadRun, type LoadedRun, type Where } from './load-run.js';

/** How long a command waits for the supervisor's verdict before saying it is still queued. */
const ACK_TIMEOUT_MS = 15_000;

export interface Submitted {
  run: string;
  task?: string;
  verdict?: Verdict;
  /** Handed over, but no verdict yet (the supervisor is busy or not running). */
  queued?: boolean;
  /** Written to the journal directly: no supervisor is running. */
  offline?: boolean;
}

export interface SubmitOpts {
  run?: string;
  task?: string;
  /** The sender a message claims (`--from`). */
  from?: string;
  /** Refused before anything is written, with the run's state (the user's commands only). */
  precheck?: (loaded: LoadedRun) => void;
  /** Where the command runs (default: this process's folder and environment). */
  where?: Where;
}

/** The worker this process belongs to, when it runs inside one (its token is in the environment). */
export function workerToken(env: Where['env'] = process.env): string | undefined {
  return env.ORCH_TASK_TOKEN || undefined;
}

export async function submit(body: OutboxBody, opts: SubmitOpts): Promise<Submitted> {
  const token = workerToken(opts.where?.env);
  return token ? submitAsWorker(token, body, opts) : submitAsUser(body, opts);
}

function notYours(message: string): OrchError {
  return new OrchError(ERR_NOT_YOUR_TASK, message, {
    hint: 'A worker reports and sends only for its own task; leave out --task/--from, or ask the user.',
    exitCode: ExitCode.Usage,
  });
}

async function submitAsWorker(token: string, body: OutboxBody, opts: SubmitOpts): Promise<Submitted> {
  const env = opts.where?.env ?? process.env;
  const task = env.ORCH_TASK;
  const run = env.ORCH_RUN;
  const attempt = Number(env.ORCH_ATTEMPT);
  if (!task || !run || !Number.isInteger(attempt) || attempt < 1) {
    throw new OrchError(
      'ERR_ORCH_NO_TASK',
      'ORCH_TASK_TOKEN is set but ORCH_TASK, ORCH_RUN or ORCH_ATTEMPT is not',
      {
        hint: 'orch sets all four in every worker; outside a worker, unset ORCH_TASK_TOKEN.',
        exitCode: ExitCode.Usage,
      },
    );
  }
  if (opts.task !== undefined && opts.task !== task)
    throw notYours(`this worker is task ${task}; it cannot report for task ${opts.task}`);
  if (opts.run !== undefined && opts.run !== run)
    throw notYours(`this worker belongs to run ${run}, not ${opts.run}`);
  if (opts.from !== undefined && opts.from !== task)
    throw notYours(`this worker is task ${task}; it cannot send as ${opts.from}`);
  const runDir = runPaths(await resolveRepoRoot(opts.where ?? {}), run).dir;
  const channel = taskChannelPaths(runDir, task);
  // The spec of the attempt holds its token: a mismatch is refused here, before anything is sent.
  const spec = await readFile(channel.spec(attempt), 'utf8')
    .then((t) => JSON.parse(t) as { token?: unknown })
    .catch(() => undefined);
  if (spec && (typeof spec.token !== 'string' || !sameSecret(spec.token, token)))
    throw notYours(`ORCH_TASK_TOKEN is not the token of task ${task} (attempt ${attempt})`);
  const id = await dropWorkerItem(runDir, { task, attempt, token }, body, { ack: true });
  const ack = await waitForAck(channel.outbox, id, ACK_TIMEOUT_MS);
  if (!ack) return { run, task, queued: true };
  if (!ack.ok) {
    throw new OrchError(ERR_REPORT_REFUSED, `the supervisor refused it: ${ack.detail}`, {
      hint: 'A worker reports only for its own task and attempt, while the task is open.',
      exitCode: ExitCode.Usage,
    });
  }
  return { run, task, verdict: ack };
}

async function submitAsUser(body: OutboxBody, opts: SubmitOpts): Promise<Submitted> {
  const loaded = await loadRun({
    ...(opts.run ? { run: opts.run } : {}),
    ...(opts.task ? { task: opts.task } : {}),
    ...(opts.where ? { where: opts.where } : {}),
  });
  const { state, dir, run } = loaded;
  assertRunActive(state);
  opts.precheck?.(loaded);
  const key = await readRunKey(dir);
  if (!key) {
    throw new OrchError(
      ERR_RUN_KEY,
      `run ${run} has no readable key (${runPaths(loaded.repoRoot, run).key})`,
      {
        hint: 'Run this as the user who started the run, outside a worker.',
      },
    );
  }
  const item: OutboxItem = {
    v: 1,
    id: newItemId(),
    ...(loaded.task ? { task: loaded.task } : {}),
    token: userToken(key),
    ack: true,
    body: body.kind === 'mail' && opts.from !== undefined ? { ...body, from: opts.from } : body,
  };
  const refused = (v: Verdict): OrchError =>
    new OrchError(ERR_REPORT_REFUSED, `refused: ${v.detail}`, {
      hint: 'Check the task id, the recipient and the run with `orch state status`.',
    });
  const live =
    state.supervisorAlive && state.supervisorPid !== undefined && isProcessAlive(state.supervisorPid);
  if (!live) {
    const verdict = await acceptItem(dir, state, USER_CHANNEL, item, (ev) => appendEvent(dir, ev));
    if (!verdict.ok) throw refused(verdict);
    return { run, ...(loaded.task ? { task: loaded.task } : {}), verdict, offline: true };
  }
  const drop = dropPaths(runPaths(loaded.repoRoot, run).userOutbox);
  await dropItem(drop, item);
  const ack = await waitForAck(drop, item.id, ACK_TIMEOUT_MS);
  if (!ack) return { run, ...(loaded.task ? { task: loaded.task } : {}), queued: true };
  if (!ack.ok) throw refused(ack);
  return { run, ...(loaded.task ? { task: loaded.task } : {}), verdict: ack };
}

/** The line after a submission that says where it stands. */
export function submittedNote(s: Submitted): string {
  if (s.queued) return 'handed to the supervisor; it has not confirmed yet';
  if (s.offline)
    return `no supervisor is running for run ${s.run}: recorded, and acted on when the run is resumed (\`orch state resume\`)`;
  return '';
}
