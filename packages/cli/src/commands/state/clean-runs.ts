import { ExitCode, OrchError, terminalSafeLine as safe } from '@orch/core';
import { cleanRuns, type CleanResult } from '@orch/engine';
import { resolveRepoRoot } from '@orch/store';
import type { CommandIO, CommandResult } from '../../define.js';
import { confirm } from '../../output.js';
import { whereOf } from '../common/run.js';

export interface CleanOpts {
  run?: string | undefined;
  dryRun?: boolean;
  yes?: boolean;
  json?: boolean;
}

function describe(res: CleanResult): string[] {
  const lines: string[] = [];
  for (const r of res.removed) {
    lines.push(`${res.dryRun ? 'Would remove' : 'Removed'} run ${r.run} (${r.phase}):`);
    for (const b of r.branches) lines.push(`  branch ${safe(b.name)} (${b.commit.slice(0, 12)})`);
    for (const w of r.worktrees) lines.push(`  worktree ${safe(w)}`);
    for (const s of r.sessions) lines.push(`  tmux session ${safe(s)}`);
    lines.push(`  folder ${safe(r.folder)}`);
  }
  for (const k of res.kept) lines.push(`Kept run ${k.run}: ${safe(k.reason)}`);
  if (res.removed.length === 0) lines.push('No finished run to clean.');
  else if (res.dryRun) lines.push('Dry run: nothing was changed. Run again with --yes to remove the above.');
  return lines;
}

export async function cleanCommand(opts: CleanOpts, io: CommandIO): Promise<CommandResult> {
  const root = await resolveRepoRoot(whereOf(io));
  const scope = { ...(opts.run ? { run: opts.run } : {}) };
  if (!opts.dryRun && !opts.yes) {
    if (!io.stdin?.isTTY) {
      throw new OrchError(
        'ERR_ORCH_CONFIRM',
        "`orch state clean` deletes finished runs' staging and archive branches and run folders.",
        {
          hint: 'See what it would remove with --dry-run, then confirm with --yes.',
          exitCode: ExitCode.Usage,
        },
      );
    }
    const preview = await cleanRuns(root, { ...scope, dryRun: true });
    // The preview is shown before the question, on the terminal that answers it.
    for (const line of describe(preview)) io.stdout.write(`${line}\n`);
    if (preview.removed.length === 0) return { exitCode: ExitCode.Ok };
    if (!(await confirm(io, 'Remove these? [y/N] ')))
      return { exitCode: ExitCode.Ok, lines: ['Nothing changed.'] };
  }
  const res = await cleanRuns(root, { ...scope, dryRun: opts.dryRun === true });
  if (opts.json) return { exitCode: ExitCode.Ok, json: res };
  return { exitCode: ExitCode.Ok, lines: describe(res) };
}
