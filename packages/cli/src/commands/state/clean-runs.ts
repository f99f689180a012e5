import { createInterface } from 'node:readline/promises';
import { ExitCode, OrchError, terminalSafeLine as safe } from '@orch/core';
import { cleanRuns, type CleanResult } from '@orch/engine';
import { resolveRepoRoot } from '@orch/store';
import { printJson, println } from '../../output.js';

export interface CleanOpts {
  run?: string;
  dryRun?: boolean;
  yes?: boolean;
  json?: boolean;
}

function describe(res: CleanResult): void {
  for (const r of res.removed) {
    println(`${res.dryRun ? 'Would remove' : 'Removed'} run ${r.run} (${r.phase}):`);
    for (const b of r.branches) println(`  branch ${safe(b.name)} (${b.commit.slice(0, 12)})`);
    for (const w of r.worktrees) println(`  worktree ${safe(w)}`);
    for (const s of r.sessions) println(`  tmux session ${safe(s)}`);
    println(`  folder ${safe(r.folder)}`);
  }
  for (const k of res.kept) println(`Kept run ${k.run}: ${safe(k.reason)}`);
  if (res.removed.length === 0) println('No finished run to clean.');
  else if (res.dryRun) println('Dry run: nothing was changed. Run again with --yes to remove the above.');
}

export async function cleanCommand(opts: CleanOpts): Promise<void> {
  const root = await resolveRepoRoot({ cwd: process.cwd(), env: process.env });
  const scope = { ...(opts.run ? { run: opts.run } : {}) };
  if (!opts.dryRun && !opts.yes) {
    if (!process.stdin.isTTY) {
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
    describe(preview);
    if (preview.removed.length === 0) return;
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    const answer = await rl.question('Remove these? [y/N] ');
    rl.close();
    if (!/^y(es)?$/i.test(answer.trim())) {
      println('Nothing changed.');
      return;
    }
  }
  const res = await cleanRuns(root, { ...scope, dryRun: opts.dryRun === true });
  if (opts.json) printJson(res);
  else describe(res);
}
