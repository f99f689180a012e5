/** How `orch plan "<request>"` runs the planner and reports: loaded when that command runs. */
import { relative } from 'node:path';
import { ExitCode } from '@orch/core';
import type { CommandIO, CommandResult } from '../../define.js';
import { checkoutRoot } from '@orch/store';
import { formatRisk } from '../analyze/format.js';
import { generatePlan, MAX_PLAN_ROUNDS } from '@orch/engine';
import { paint } from '../../output.js';
import { VERSION } from '../../version.js';

export interface PlanGenerateOptions {
  output: string;
  yes: boolean;
  json: boolean;
  agent?: string | undefined;
  model?: string | undefined;
}

/**
 * `orch plan "<request>"`: the planner agent writes the plan headless, orch checks it and feeds
 * the problems back (at most 3 rounds), then prints the tasks, waves and risk. Exit 3 when the plan
 * needs approval and --yes was not given; the plan is written either way.
 */
export async function planGenerate(
  request: string,
  opts: PlanGenerateOptions,
  io: CommandIO,
): Promise<CommandResult> {
  const err = (line: string): void => void io.stderr.write(`${line}\n`);
  const repoRoot = await checkoutRoot(io.cwd);
  const quiet = opts.json;
  const result = await generatePlan({
    request,
    repoRoot,
    output: opts.output,
    version: VERSION,
    ...(opts.agent ? { agent: opts.agent } : {}),
    ...(opts.model ? { model: opts.model } : {}),
    onRoundStart: (round) => {
      if (!quiet) err(paint('bold', `round ${round}/${MAX_PLAN_ROUNDS}: planner at work`, io.stderr));
    },
    onEvent: (_round, line) => {
      if (!quiet) err(paint('dim', `  ${line}`, io.stderr));
    },
    onRoundEnd: (r) => {
      if (quiet || r.errors.length === 0) return;
      const more = r.round < MAX_PLAN_ROUNDS ? ', sent back to the planner' : '';
      err(paint('yellow', `round ${r.round}: ${r.errors.length} problem(s)${more}`, io.stderr));
      for (const e of r.errors) err(`  - ${e}`);
    },
  });
  const { plan, report } = result;
  if (!plan || !report) return { exitCode: ExitCode.Failed };
  const needsApproval = report.exitCode === ExitCode.NeedsApproval;
  const code = needsApproval && !opts.yes ? ExitCode.NeedsApproval : ExitCode.Ok;
  const rel = relative(io.cwd, result.output) || result.output;
  if (quiet) {
    return {
      exitCode: code,
      json: {
        ok: true,
        output: result.output,
        exitCode: code,
        needsApproval,
        rounds: result.rounds,
        tasks: plan.tasks.map((t) => ({ id: t.id, depends_on: t.depends_on, files_write: t.files_write })),
        waves: report.dag.waves,
        risk: report.risk,
      },
    };
  }
  const lines: string[] = [];
  const println = (l: string): void => void lines.push(l);
  println(
    `${paint('green', '✓', io.stdout)} plan written to ${rel}: ${plan.tasks.length} task${plan.tasks.length === 1 ? '' : 's'} in ${report.dag.total_waves} wave${report.dag.total_waves === 1 ? '' : 's'}`,
  );
  const width = Math.max(...plan.tasks.map((t) => t.id.length));
  for (const t of plan.tasks) {
    const deps = t.depends_on.length ? ` after ${t.depends_on.join(', ')}` : '';
    println(`  ${t.id.padEnd(width)}  ${t.files_write.join(', ')}${paint('dim', deps, io.stdout)}`);
  }
  report.dag.waves.forEach((w, i) => println(`Wave ${i + 1}: ${w.join(', ')}`));
  for (const l of formatRisk(report.risk)) println(l);
  if (code === ExitCode.NeedsApproval) {
    println(
      paint(
        'yellow',
        `Needs approval: review ${rel}, then run it with \`orch run ${rel} --yes\`.`,
        io.stdout,
      ),
    );
  } else println(`Next: \`orch run ${rel}\``);
  return { exitCode: code, lines };
}
