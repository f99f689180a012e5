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
import { paint, printJson, println } from '../../output.js';
import { describeEvent } from '../run/progress.js';
import { finish, outliveTerminal } from '../run/runner.js';

interface ResumeOpts {
  run?: string | undefined;
  dryRun: boolean;
  detach: boolean;
  json: boolean;
}

function printPlan(plan: ResumePlan, dry: boolean): void {
  println(`${dry ? 'Resume would' : 'Resuming'} run ${paint('bold', plan.run)} (phase ${plan.phase}):`);
  for (const r of plan.repairs) println(`  repair: ${terminalSafeLine(r.what)}`);
  for (const i of plan.items)
    println(
      `  ${i.task.padEnd(24)} ${i.status.padEnd(15)} ${paint('bold', i.action.padEnd(8))} ${terminalSafeLine(i.detail)}`,
    );
}

export async function resumeCommand(opts: ResumeOpts): Promise<ExitCode> {
  const r = await resolveRun({
    cwd: process.cwd(),
    env: process.env,
    ...(opts.run ? { run: opts.run } : {}),
  });
  const orchBin = orchBinPath();
  // Reports workers left while no supervisor ran are journaled first, so the plan sees them.
  const { ctx, plan } = await planResume(r.repoRoot, r.run, orchBin, { takeReports: !opts.dryRun });
  const state = ctx.journal.state as RunState;
  if (plan.finished) {
    // A run killed after it finished may still have leftovers (integration worktree, merged branches).
    if (!opts.dryRun && plan.repairs.length > 0) await repairForResume(ctx, plan);
    if (opts.json) printJson({ ...plan, action: 'none', ...(opts.dryRun ? { dryRun: true } : {}) });
    else {
      println(`Run ${r.run} has finished (${state.outcome ?? state.phase}); there is nothing to resume.`);
      for (const x of plan.repairs)
        println(`  ${opts.dryRun ? 'would tidy' : 'tidied'}: ${terminalSafeLine(x.what)}`);
    }
    return ExitCode.Ok;
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
    if (opts.json) printJson({ ...plan, dryRun: true });
    else printPlan(plan, true);
    return ExitCode.Ok;
  }
  if (opts.detach || state.detached) {
    const { session } = await startDetachedSupervisor({
      repoRoot: r.repoRoot,
      run: r.run,
      orchBin,
      resume: true,
    });
    if (opts.json) printJson({ ...plan, detached: true, session });
    else {
      printPlan(plan, false);
      println(`The supervisor continues in the background; watch it with \`orch dashboard\`.`);
    }
    return ExitCode.Ok;
  }
  const restarts = await repairForResume(ctx, plan);
  if (!opts.json) printPlan(plan, false);
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
  return finish(final, opts.json === true);
}
