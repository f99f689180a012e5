import { createInterface } from 'node:readline/promises';
import { ExitCode, OrchError, terminalSafeLine } from '@orch/core';
import { abortRun } from '@orch/engine';
import { resolveRun } from '@orch/store';
import { printJson, println } from '../../output.js';

export async function abortCommand(opts: { run?: string; yes?: boolean; json?: boolean }): Promise<void> {
  const r = await resolveRun({
    cwd: process.cwd(),
    env: process.env,
    ...(opts.run ? { run: opts.run } : {}),
  });
  if (!opts.yes) {
    if (!process.stdin.isTTY) {
      throw new OrchError(
        'ERR_ORCH_CONFIRM',
        `Aborting run ${r.run} stops it and removes its worktrees and branches (uncommitted and unmerged work is kept on archive branches).`,
        {
          hint: 'Add --yes to confirm.',
          exitCode: ExitCode.Usage,
        },
      );
    }
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    const answer = await rl.question(`Abort run ${r.run} and remove its worktrees and branches? [y/N] `);
    rl.close();
    if (!/^y(es)?$/i.test(answer.trim())) {
      println('Nothing changed.');
      return;
    }
  }
  const res = await abortRun(r.repoRoot, r.run);
  if (opts.json) {
    printJson(res);
    return;
  }
  println(`Run ${res.run} aborted.`);
  println(
    `  sessions stopped: ${res.sessionsKilled.length}, worktrees removed: ${res.worktreesRemoved.length}, branches deleted: ${res.branchesDeleted.length}`,
  );
  for (const x of res.refsRestored) println(`  restored ${x.ref} to ${x.to.slice(0, 12)}`);
  if (res.kept.length > 0) {
    println('Kept (nothing of yours is lost):');
    for (const k of res.kept) {
      println(`  ${terminalSafeLine(k.what)}: ${k.branch} (${k.commit.slice(0, 12)})`);
      println(`    get it back: ${terminalSafeLine(k.restore)}`);
    }
    println('  `orch state clean` removes these archives when you no longer need them.');
  }
  for (const m of res.manual) println(`  do by hand: ${terminalSafeLine(m)}`);
}
