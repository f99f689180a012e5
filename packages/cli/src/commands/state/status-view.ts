import { countByStatus, isTerminalPhase, totalUsage, type RunState } from '@orch/core';
import {
  listRuns,
  loadRunState,
  loadRunStateAt,
  resolveRepoRoot,
  resolveRun,
  runPaths,
  watchJournal,
} from '@orch/store';
import { ExitCode, OrchError, terminalSafeLine as safe } from '@orch/core';
import type { CommandIO, CommandResult } from '../../define.js';
import { paint, type Color } from '../../output.js';
import { whereOf } from '../common/run.js';
import { storeUrlOf, withStoreRun } from '../../run-store.js';
import { outcomeExitCode } from '../run/progress.js';

export async function loadState(run: string | undefined, io: CommandIO): Promise<RunState> {
  const r = await resolveRun({ ...whereOf(io), ...(run ? { run } : {}) });
  const state = await loadRunState(runPaths(r.repoRoot, r.run).dir);
  if (!state) {
    throw new OrchError('ERR_ORCH_RUN_NOT_FOUND', `Run ${r.run} has no events yet.`, {
      hint: 'Wait until `orch run` has started it, or list the runs with `orch state list`.',
    });
  }
  return state;
}

const short = (c: string | undefined): string => (c ? c.slice(0, 12) : '-');

export async function statusCommand(
  opts: { run?: string | undefined; store?: string | undefined; json: boolean },
  io: CommandIO,
): Promise<CommandResult> {
  const url = await storeUrlOf(opts.store, io);
  if (url) {
    return withStoreRun(url, opts.run, io, async (sr) => {
      // In a store the supervisor is alive while its lease is: a crashed one journals nothing.
      const alive = (await sr.supervisor()) !== undefined;
      return statusResult({ ...sr.state(), supervisorAlive: alive }, sr.log.skipped, opts, io, {
        checked: sr.key !== undefined,
      });
    });
  }
  const s = await loadState(opts.run, io);
  // Lines of events.jsonl orch did not sign (written by someone else): ignored, but said.
  const r = await resolveRun({ ...whereOf(io), run: s.run });
  const { unsigned } = await loadRunStateAt(runPaths(r.repoRoot, r.run).dir);
  return statusResult(s, unsigned, opts, io);
}

/**
 * The status of a run's state, the same for a run folder and a store. `unsigned`: log entries not
 * signed with the run key (ignored); `signatures.checked` false when this machine lacks the key.
 */
function statusResult(
  s: RunState,
  unsigned: number,
  opts: { json: boolean },
  io: CommandIO,
  signatures?: { checked: boolean },
): CommandResult {
  const counts = countByStatus(s);
  const usage = totalUsage(s);
  if (opts.json) {
    return {
      exitCode: ExitCode.Ok,
      json: {
        run: s.run,
        request: s.request,
        phase: s.phase,
        outcome: s.outcome ?? null,
        reason: s.reason ?? null,
        base: s.base,
        baseCommit: s.baseCommit,
        staging: s.staging,
        stagingCommit: s.stagingCommit,
        startedAt: s.startedAt,
        finishedAt: s.finishedAt ?? null,
        supervisorAlive: s.supervisorAlive,
        counts,
        totals: { tokens: usage.inputTokens + usage.outputTokens, ...usage },
        integration: s.integration ?? null,
        promotion: s.promotion ?? null,
        journal: {
          unsignedLines: unsigned,
          ...(signatures && !signatures.checked ? { signaturesChecked: false } : {}),
        },
        rejected: s.rejected ?? null,
        skipped: s.skipped ?? null,
        tasks: s.order.map((id) => s.tasks[id]),
      },
    };
  }
  const color = (c: Color, text: string): string => paint(c, text, io.stdout);
  const lines: string[] = [];
  const println = (line: string): void => void lines.push(line);
  println(
    `${color('bold', `Run ${s.run}`)}  phase ${color('bold', s.phase)}${s.reason ? ` (${safe(s.reason)})` : ''}`,
  );
  // Reasons, messages and questions quote workers: printed with control characters neutralised.
  if (s.request) println(`Request: ${safe(s.request)}`);
  println(`Base ${s.base} ${short(s.baseCommit)}  staging ${s.staging} ${short(s.stagingCommit)}`);
  println('');
  for (const id of s.order) {
    const t = s.tasks[id]!;
    const ev = t.evidence ? ` [${safe(t.evidence.source)} ${safe(t.evidence.at.slice(11, 19))}]` : '';
    println(
      `  ${safe(id).padEnd(24)} ${t.status.padEnd(15)} attempt ${t.attempt}${ev}${t.lastMessage ? `  ${safe(t.lastMessage)}` : ''}`,
    );
    if (t.failure && t.status === 'failed') {
      for (const line of t.failure.detail?.split('\n') ?? [])
        println(`  ${''.padEnd(24)} ${color('dim', safe(line))}`);
    }
    if (t.attention)
      println(`  ${''.padEnd(24)} ${color('yellow', 'needs a decision:')} ${safe(t.attention)}`);
  }
  println('');
  const parts = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`);
  println(
    `${parts.join(', ')}; tokens ${usage.inputTokens + usage.outputTokens}, cost $${usage.costUsd.toFixed(2)}`,
  );
  if (signatures && !signatures.checked)
    println(color('yellow', "signatures not checked: this machine lacks the run's key (ORCH_RUN_KEY_FILE)"));
  if (unsigned > 0)
    println(
      color(
        'yellow',
        `${unsigned} journal line(s) not written by orch were ignored (no valid signature in events.jsonl)`,
      ),
    );
  if (s.rejected)
    println(
      color(
        'yellow',
        `${s.rejected.count} report(s) refused by the supervisor; last from ${s.rejected.last.channel}: `,
      ) + s.rejected.last.reason,
    );
  // Journal events the lifecycle table refused (docs/lifecycle.md): they changed nothing.
  const lastSkipped = s.skipped?.recent.at(-1);
  if (s.skipped && s.skipped.count > 0 && lastSkipped)
    println(
      color('yellow', `${s.skipped.count} journal event(s) skipped as illegal; last: `) +
        safe(`${lastSkipped.type} for ${lastSkipped.task}: ${lastSkipped.reason}`),
    );
  return { exitCode: ExitCode.Ok, lines };
}

export async function listCommand(opts: { json: boolean }, io: CommandIO): Promise<CommandResult> {
  const runs = await listRuns(await resolveRepoRoot(whereOf(io)));
  if (opts.json) return { exitCode: ExitCode.Ok, json: runs };
  if (runs.length === 0)
    return {
      exitCode: ExitCode.Ok,
      lines: ['No runs in this repository yet. Start one with `orch run tasks.yaml`.'],
    };
  return {
    exitCode: ExitCode.Ok,
    lines: runs.map((x) => {
      const live = x.live ? `${paint('green', 'live', io.stdout)} ` : '';
      return `${x.run}  ${String(x.outcome ?? x.phase).padEnd(15)} ${live}${safe(x.request ?? '')}`;
    }),
  };
}

const settled = (s: RunState): boolean => isTerminalPhase(s.phase) || s.phase === 'needs_attention';

export async function waitCommand(
  opts: {
    run?: string | undefined;
    store?: string | undefined;
    timeout: number;
    json: boolean;
  },
  io: CommandIO,
): Promise<CommandResult> {
  const url = await storeUrlOf(opts.store, io);
  if (url) {
    return withStoreRun(url, opts.run, io, async (sr) => {
      let state = sr.state();
      if (!settled(state)) {
        // Follows the run's stream (a blocking read) until the run settles or the time is up.
        state = await new Promise<RunState>((resolve) => {
          const stop = sr.log.subscribe(() => {
            if (settled(sr.state())) finish();
          });
          const timer = setTimeout(finish, opts.timeout * 1000);
          function finish(): void {
            clearTimeout(timer);
            stop();
            resolve(sr.state());
          }
          sr.log.follow();
          // An entry appended between the first read and the follow is read here.
          void sr.log.refresh().catch(() => undefined);
        });
      }
      return waitResult(state, opts, []);
    });
  }
  const initial = await loadState(opts.run, io);
  const { followedRunNote } = await import('./follow.js');
  const followed = await followedRunNote(
    initial.repoRoot,
    initial.run,
    opts.run !== undefined || Boolean(io.env.ORCH_RUN),
    'orch wait',
  );
  const notes = followed ? [followed] : [];
  const dir = runPaths(initial.repoRoot, initial.run).dir;
  let state = initial;
  if (!settled(state)) {
    state = await new Promise<RunState>((resolve) => {
      let last = initial;
      const w = watchJournal(dir, (_evs, s) => {
        last = s;
        if (settled(s)) {
          clearTimeout(timer);
          w.close();
          resolve(s);
        }
      });
      const timer = setTimeout(() => {
        w.close();
        resolve(last);
      }, opts.timeout * 1000);
    });
  }
  return waitResult(state, opts, notes);
}

function waitResult(
  state: RunState,
  opts: { timeout: number; json: boolean },
  notes: string[],
): CommandResult {
  const exitCode = outcomeExitCode(state);
  if (opts.json) {
    return {
      exitCode,
      notes,
      json: {
        run: state.run,
        phase: state.phase,
        outcome: state.outcome ?? null,
        reason: state.reason ?? null,
        counts: countByStatus(state),
      },
    };
  }
  const still = !settled(state);
  return {
    exitCode,
    notes,
    lines: [
      still
        ? `Run ${state.run} is still ${state.phase} (waited ${opts.timeout} s).`
        : `Run ${state.run}: ${state.outcome ?? state.phase}${state.reason ? ` (${safe(state.reason)})` : ''}`,
    ],
  };
}
