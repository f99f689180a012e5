import {
  ExitCode,
  OrchError,
  isProcessAlive,
  terminalSafeLine,
  type RunEvent,
  type RunState,
} from '@orch/core';
import {
  orchBinPath,
  planResume,
  repairForResume,
  startDetachedSupervisor,
  superviseRun,
  type ResumePlan,
} from '@orch/engine';
import { resolveRun } from '@orch/store';
import type { CommandIO, CommandResult } from '../../define.js';
import { paint } from '../../output.js';
import { storeUrlOf } from '../../run-store.js';
import { whereOf } from '../common/run.js';
import { describeEvent } from '../run/progress.js';
import { finishResult, outliveTerminal } from '../run/runner.js';

interface ResumeOpts {
  run?: string | undefined;
  store?: string | undefined;
  remote?: string | undefined;
  workdir?: string | undefined;
  dryRun: boolean;
  detach: boolean;
  json: boolean;
}

function planLines(plan: ResumePlan, dry: boolean, io: CommandIO): string[] {
  const bold = (t: string): string => paint('bold', t, io.stdout);
  return [
    `${dry ? 'Resume would' : 'Resuming'} run ${bold(plan.run)} (phase ${plan.phase}):`,
    ...plan.repairs.map((r) => `  repair: ${terminalSafeLine(r.what)}`),
    ...plan.items.map(
      (i) =>
        `  ${i.task.padEnd(24)} ${i.status.padEnd(15)} ${bold(i.action.padEnd(8))} ${terminalSafeLine(i.detail)}`,
    ),
  ];
}

/**
 * `orch state resume`: the plan (--dry-run) or a detached supervisor are returned; a supervisor
 * continuing in this terminal writes its progress to the injected stdout as it goes.
 */
export async function resumeCommand(opts: ResumeOpts, io: CommandIO): Promise<CommandResult> {
  const url = await storeUrlOf(opts.store, io);
  if (url) return (await import('./resume-store.js')).resumeFromStore(url, opts, io);
  const r = await resolveRun({ ...whereOf(io), ...(opts.run ? { run: opts.run } : {}) });
  const orchBin = orchBinPath();
  // Reports workers left while no supervisor ran are journaled first, so the plan sees them.
  const { ctx, plan } = await planResume(r.repoRoot, r.run, orchBin, { takeReports: !opts.dryRun });
  const state = ctx.journal.state as RunState;
  if (plan.finished) {
    // A run killed after it finished may still have leftovers (integration worktree, merged branches).
    if (!opts.dryRun && plan.repairs.length > 0) await repairForResume(ctx, plan);
    if (opts.json)
      return {
        exitCode: ExitCode.Ok,
        json: { ...plan, action: 'none', ...(opts.dryRun ? { dryRun: true } : {}) },
      };
    return {
      exitCode: ExitCode.Ok,
      lines: [
        `Run ${r.run} has finished (${state.outcome ?? state.phase}); there is nothing to resume.`,
        ...plan.repairs.map((x) => `  ${opts.dryRun ? 'would tidy' : 'tidied'}: ${terminalSafeLine(x.what)}`),
      ],
    };
  }
  if (state.supervisorAlive && state.supervisorPid && isProcessAlive(state.supervisorPid)) {
    throw new OrchError(
      'ERR_ORCH_RUN_LOCKED',
      `The supervisor of run ${r.run} is still running (pid ${state.supervisorPid}).`,
      {
        hint: 'Watch it with `orch dashboard`, or stop it first (Ctrl-C, or `orch state abort`).',
      },
    );
  }
  if (opts.dryRun) {
    if (opts.json) return { exitCode: ExitCode.Ok, json: { ...plan, dryRun: true } };
    return { exitCode: ExitCode.Ok, lines: planLines(plan, true, io) };
  }
  if (opts.detach || state.detached) {
    const { session } = await startDetachedSupervisor({
      repoRoot: r.repoRoot,
      run: r.run,
      orchBin,
      resume: true,
    });
    if (opts.json) return { exitCode: ExitCode.Ok, json: { ...plan, detached: true, session } };
    return {
      exitCode: ExitCode.Ok,
      lines: [
        ...planLines(plan, false, io),
        `The supervisor continues in the background; watch it with \`orch dashboard\`.`,
      ],
    };
  }
  const restarts = await repairForResume(ctx, plan);
  const println = (line: string): void => void io.stdout.write(`${line}\n`);
  if (!opts.json) planLines(plan, false, io).forEach(println);
  const final = await superviseRun(r.repoRoot, r.run, orchBin, {
    ctx,
    restarts,
    onHangup: outliveTerminal(r.repoRoot, r.run),
    ...(opts.json
      ? {}
      : {
          onEvent: (ev: RunEvent, s: RunState) => {
            const line = describeEvent(ev, s);
            if (line) println(line);
          },
        }),
  });
  return finishResult(final, opts.json === true, io.stdout);
}
