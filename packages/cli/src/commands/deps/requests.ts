import { ExitCode, OrchError } from '@orch/core';
import { approveDeps, denyDeps, findConflicts, pendingRequests } from '@orch/engine';
import { resolveRun } from '@orch/store';
import { printJson, println } from '../../output.js';
import { loadState } from '../state/status-view.js';

export async function depsList(opts: { run?: string; json?: boolean }): Promise<void> {
  const state = await loadState(opts.run);
  const requests = pendingRequests(state);
  const conflicts = findConflicts(requests);
  if (opts.json) {
    printJson({ run: state.run, requests, conflicts });
    return;
  }
  if (requests.length === 0) {
    println(`No pending dependency requests in run ${state.run}.`);
    return;
  }
  for (const r of requests) println(`${r.task.padEnd(24)} ${r.spec.padEnd(30)} ${r.reason ?? ''}`);
  for (const c of conflicts) {
    println(
      `conflict: ${c.name} is requested as ${c.requests.map((r) => `${r.spec} (${r.task})`).join(' and ')}`,
    );
  }
  println(
    `\nApprove with \`orch deps approve <task>\` (or --all), refuse with \`orch deps deny <task> --reason "..."\`.`,
  );
}

export async function depsApprove(
  task: string | undefined,
  opts: { all?: boolean; run?: string; json?: boolean },
): Promise<void> {
  if (!task && !opts.all) {
    throw new OrchError('ERR_ORCH_USAGE', 'Name the task whose request to approve, or pass --all.', {
      hint: 'See the pending requests with `orch deps list`.',
      exitCode: ExitCode.Usage,
    });
  }
  const r = await resolveRun({
    cwd: process.cwd(),
    env: process.env,
    ...(opts.run ? { run: opts.run } : {}),
  });
  const res = await approveDeps(r.repoRoot, r.run, opts.all ? 'all' : [task as string]);
  if (opts.json) {
    printJson(res);
    return;
  }
  println(
    `Installed ${[...new Set(res.installed.map((i) => i.spec))].join(', ')} on staging with \`${res.command.join(' ')}\` (${res.commit.slice(0, 12)}).`,
  );
  println(
    `Environment hash is now ${res.envHash}; the blocked workers start again from the new staging tip.`,
  );
}

export async function depsDeny(
  task: string,
  opts: { reason: string; run?: string; json?: boolean },
): Promise<void> {
  const r = await resolveRun({
    cwd: process.cwd(),
    env: process.env,
    ...(opts.run ? { run: opts.run } : {}),
  });
  const denied = await denyDeps(r.repoRoot, r.run, task, opts.reason);
  if (opts.json) {
    printJson({ task, denied, reason: opts.reason });
    return;
  }
  println(`Denied ${denied.map((d) => d.spec).join(', ')} for ${task}; it starts again without it.`);
}
