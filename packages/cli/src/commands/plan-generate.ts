import { relative } from 'node:path';
import { ExitCode } from '@orch/core';
import { checkoutRoot } from '@orch/store';
import { formatRisk } from '../analyze/format.js';
import { generatePlan, MAX_PLAN_ROUNDS } from '../claude/planner.js';
import { paint, printJson, println } from '../output.js';

export interface PlanGenerateOptions {
  output?: string;
  yes?: boolean;
  json?: boolean;
  agent?: string;
  model?: string;
}

const err = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/**
 * `orch plan "<request>"`: the planner agent writes the plan headless, orch checks it and feeds
 * the problems back (at most 3 rounds), then prints the tasks, waves and risk. Exit 3 when the plan
 * needs approval and --yes was not given; the plan is written either way.
 */
export async function planGenerate(request: string, opts: PlanGenerateOptions): Promise<number> {
  const repoRoot = await checkoutRoot(process.cwd());
  const quiet = opts.json === true;
  const result = await generatePlan({
    request,
    repoRoot,
    output: opts.output ?? 'tasks.yaml',
    ...(opts.agent ? { agent: opts.agent } : {}),
    ...(opts.model ? { model: opts.model } : {}),
    onRoundStart: (round) => {
      if (!quiet) err(paint('bold', `round ${round}/${MAX_PLAN_ROUNDS}: planner at work`, process.stderr));
    },
    onEvent: (_round, line) => {
      if (!quiet) err(paint('dim', `  ${line}`, process.stderr));
    },
    onRoundEnd: (r) => {
      if (quiet || r.errors.length === 0) return;
      const more = r.round < MAX_PLAN_ROUNDS ? ', sent back to the planner' : '';
      err(paint('yellow', `round ${r.round}: ${r.errors.length} problem(s)${more}`, process.stderr));
      for (const e of r.errors) err(`  - ${e}`);
    },
  });
  const { plan, report } = result;
  if (!plan || !report) return ExitCode.Failed;
  const needsApproval = report.exitCode === ExitCode.NeedsApproval;
  const code = needsApproval && !opts.yes ? ExitCode.NeedsApproval : ExitCode.Ok;
  const rel = relative(process.cwd(), result.output) || result.output;
  if (quiet) {
    printJson({
      ok: true,
      output: result.output,
      exitCode: code,
      needsApproval,
      rounds: result.rounds,
      tasks: plan.tasks.map((t) => ({ id: t.id, depends_on: t.depends_on, files_write: t.files_write })),
      waves: report.dag.waves,
      risk: report.risk,
    });
    return code;
  }
  println(
    `${paint('green', '✓')} plan written to ${rel}: ${plan.tasks.length} task${plan.tasks.length === 1 ? '' : 's'} in ${report.dag.total_waves} wave${report.dag.total_waves === 1 ? '' : 's'}`,
  );
  const width = Math.max(...plan.tasks.map((t) => t.id.length));
  for (const t of plan.tasks) {
    const deps = t.depends_on.length ? ` after ${t.depends_on.join(', ')}` : '';
    println(`  ${t.id.padEnd(width)}  ${t.files_write.join(', ')}${paint('dim', deps)}`);
  }
  report.dag.waves.forEach((w, i) => println(`Wave ${i + 1}: ${w.join(', ')}`));
  for (const l of formatRisk(report.risk)) println(l);
  if (code === ExitCode.NeedsApproval) {
    println(paint('yellow', `Needs approval: review ${rel}, then run it with \`orch run ${rel} --yes\`.`));
  } else println(`Next: \`orch run ${rel}\``);
  return code;
}
