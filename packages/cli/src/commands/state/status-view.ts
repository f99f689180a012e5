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
  opts: { run?: string | undefined; json: boolean },
  io: CommandIO,
): Promise<CommandResult> {
  const s = await loadState(opts.run, io);
  // Lines of events.jsonl orch did not sign (written by someone else): ignored, but said.
  const r = await resolveRun({ ...whereOf(io), run: s.run });
  const { unsigned } = await loadRunStateAt(runPaths(r.repoRoot, r.run).dir);
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
        journal: { unsignedLines: unsigned },
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

export async function waitCommand(
  opts: {
    run?: string | undefined;
    timeout: number;
    json: boolean;
  },
  io: CommandIO,
): Promise<CommandResult> {
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
  const settled = (s: RunState): boolean => isTerminalPhase(s.phase) || s.phase === 'needs_attention';
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
