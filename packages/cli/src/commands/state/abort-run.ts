import { ExitCode, OrchError, terminalSafeLine } from '@orch/core';
import { abortRun } from '@orch/engine';
import { resolveRun } from '@orch/store';
import type { CommandIO, CommandResult } from '../../define.js';
import { confirm } from '../../output.js';
import { whereOf } from '../common/run.js';

export async function abortCommand(
  opts: { run?: string | undefined; yes?: boolean; json?: boolean },
  io: CommandIO,
): Promise<CommandResult> {
  const r = await resolveRun({ ...whereOf(io), ...(opts.run ? { run: opts.run } : {}) });
  if (!opts.yes) {
    if (!io.stdin?.isTTY) {
      throw new OrchError(
        'ERR_ORCH_CONFIRM',
        `Aborting run ${r.run} stops it and removes its worktrees and branches (uncommitted and unmerged work is kept on archive branches).`,
        {
          hint: 'Add --yes to confirm.',
          exitCode: ExitCode.Usage,
        },
      );
    }
    if (!(await confirm(io, `Abort run ${r.run} and remove its worktrees and branches? [y/N] `)))
      return { exitCode: ExitCode.Ok, lines: ['Nothing changed.'] };
  }
  const res = await abortRun(r.repoRoot, r.run);
  if (opts.json) return { exitCode: ExitCode.Ok, json: res };
  const lines = [
    `Run ${res.run} aborted.`,
    `  sessions stopped: ${res.sessionsKilled.length}, worktrees removed: ${res.worktreesRemoved.length}, branches deleted: ${res.branchesDeleted.length}`,
    ...res.refsRestored.map((x) => `  restored ${x.ref} to ${x.to.slice(0, 12)}`),
  ];
  if (res.kept.length > 0) {
    lines.push('Kept (nothing of yours is lost):');
    for (const k of res.kept) {
      lines.push(`  ${terminalSafeLine(k.what)}: ${k.branch} (${k.commit.slice(0, 12)})`);
      lines.push(`    get it back: ${terminalSafeLine(k.restore)}`);
    }
    lines.push('  `orch state clean` removes these archives when you no longer need them.');
  }
  for (const m of res.manual) lines.push(`  do by hand: ${terminalSafeLine(m)}`);
  return { exitCode: ExitCode.Ok, lines };
}
