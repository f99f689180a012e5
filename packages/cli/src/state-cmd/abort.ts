import { createInterface } from 'node:readline/promises';
import { ExitCode, OrchError } from '@orch/core';
import { abortRun } from '@orch/engine';
import { resolveRun } from '@orch/store';
import { printJson, println } from '../output.js';

export async function abortCommand(opts: { run?: string; yes?: boolean; json?: boolean }): Promise<void> {
  const r = await resolveRun({
    cwd: process.cwd(),
    env: process.env,
    ...(opts.run ? { run: opts.run } : {}),
  });
  if (!opts.yes) {
    if (!process.stdin.isTTY) {
      throw new OrchError('ERR_ORCH_CONFIRM', `Aborting run ${r.run} removes its worktrees and branches.`, {
        hint: 'Add --yes to confirm.',
        exitCode: ExitCode.Usage,
      });
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
    `  sessions stopped: ${res.sessionsKilled.length}, worktrees removed: ${res.worktreesRemoved.length}`,
  );
  for (const b of res.branchesDeleted) {
    println(
      `  deleted ${b.name} (${b.commit.slice(0, 12)}${b.merged ? '' : `, not merged: recover with git branch ${b.name} ${b.commit}`})`,
    );
  }
  for (const x of res.refsRestored) println(`  restored ${x.ref} to ${x.to.slice(0, 12)}`);
  for (const m of res.manual) println(`  do by hand: ${m}`);
}
