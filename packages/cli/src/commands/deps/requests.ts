import { ExitCode, OrchError } from '@orch/core';
import { approveDeps, denyDeps, findConflicts, pendingRequests } from '@orch/engine';
import { resolveRun } from '@orch/store';
import type { CommandIO, CommandResult } from '../../define.js';
import { whereOf } from '../common/run.js';
import { loadState } from '../state/status-view.js';

export async function depsList(
  opts: { run?: string | undefined; json?: boolean },
  io: CommandIO,
): Promise<CommandResult> {
  const state = await loadState(opts.run, io);
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

export async function depsApprove(
  task: string | undefined,
  opts: { all?: boolean; run?: string | undefined; json?: boolean },
  io: CommandIO,
): Promise<CommandResult> {
  if (!task && !opts.all) {
    throw new OrchError('ERR_ORCH_USAGE', 'Name the task whose request to approve, or pass --all.', {
      hint: 'See the pending requests with `orch deps list`.',
      exitCode: ExitCode.Usage,
    });
  }
  const r = await resolveRun({ ...whereOf(io), ...(opts.run ? { run: opts.run } : {}) });
  const res = await approveDeps(r.repoRoot, r.run, opts.all ? 'all' : [task as string]);
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
  opts: { reason: string; run?: string | undefined; json?: boolean },
  io: CommandIO,
): Promise<CommandResult> {
  const r = await resolveRun({ ...whereOf(io), ...(opts.run ? { run: opts.run } : {}) });
  const denied = await denyDeps(r.repoRoot, r.run, task, opts.reason);
  if (opts.json) return { exitCode: ExitCode.Ok, json: { task, denied, reason: opts.reason } };
  return {
    exitCode: ExitCode.Ok,
    lines: [`Denied ${denied.map((d) => d.spec).join(', ')} for ${task}; it starts again without it.`],
  };
}
