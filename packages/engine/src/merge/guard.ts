/**
 * Staging is orch's: the supervisor journals every tip it writes (`staging.moved`), and before it
 * builds on staging or promotes it, the real ref must be exactly the last journaled tip. A ref
 * moved by anyone else (a worker's `git update-ref`) stops the run with a security error; orch
 * never merges onto, integrates or promotes a commit it did not write.
 */
import { ERR_ORCH_REF_TAMPERED, OrchError, isOrchError, type Landing } from '@orch/core';
import { sleepOn } from '../ports/clock.js';
import { requireState, stagingBranch, type RunContext } from '../run/context.js';

/** How long a journal line of another orch process (`orch deps approve`) may trail its ref update. */
const JOURNAL_LAG_MS = 2_000;

export function stagingTampered(run: string, expected: string, actual: string | null): OrchError {
  const branch = stagingBranch(run);
  return new OrchError(
    ERR_ORCH_REF_TAMPERED,
    `${branch} was moved by something other than orch: from ${expected} (the last tip orch wrote) to ${actual ?? '(deleted)'}`,
    {
      hint:
        `orch does not build on, integrate or promote a ref it did not write. Inspect it with ` +
        `\`git log ${expected}..${branch}\`; to go on, put it back with ` +
        `\`git update-ref refs/heads/${branch} ${expected}\` and run \`orch state resume\`.`,
      details: { ref: `refs/heads/${branch}`, expected, actual },
    },
  );
}

/** The journaled staging tip, once the real ref is seen to be exactly there; else ERR_ORCH_REF_TAMPERED. */
export async function guardedStagingTip(ctx: RunContext): Promise<string> {
  const ref = `refs/heads/${stagingBranch(ctx.run)}`;
  const deadline = ctx.clock.now() + JOURNAL_LAG_MS;
  for (;;) {
    const expected = requireState(ctx).stagingCommit;
    const actual = await ctx.repository.tryRevParse(ref);
    if (actual === expected) return expected;
    if (ctx.clock.now() >= deadline) throw stagingTampered(ctx.run, expected, actual);
    await sleepOn(ctx.clock, 100);
    await ctx.journal.refresh();
  }
}

export function isTampered(e: unknown): e is OrchError {
  return isOrchError(e, ERR_ORCH_REF_TAMPERED);
}

/**
 * Why staging is at `actual` although the journal says otherwise, when orch itself did it and
 * stopped before journaling it (resume); otherwise ERR_ORCH_REF_TAMPERED. Only two moves are
 * orch's: its own landings of tasks on the journaled tip (one, or a batch's chain of them: each
 * with parents, trailers and tree exactly what the merge queue makes of that task's journaled
 * verified commit on the landing before it), and the revert of a landing whose incremental check
 * never passed to the tip it was made on. Undefined: no move at all.
 */
export async function explainStagingMove(
  ctx: RunContext,
  actual: string | null,
): Promise<string | undefined> {
  const s = requireState(ctx);
  const expected = s.stagingCommit;
  if (actual === expected) return undefined;
  const refused = stagingTampered(ctx.run, expected, actual);
  if (actual === null) throw refused;
  const { repository } = ctx;
  // A revert interrupted after its ref update: back on the tip the unverified landing was made on.
  const [expectedParent] = await repository.parents(expected);
  if (actual === expectedParent && s.stagingVerified !== expected) {
    const [l, ...more] = await repository.landings(expected, actual);
    if (l && more.length === 0 && l.commit === expected && l.run === ctx.run)
      return `reconciled on resume: the revert of ${expected.slice(0, 12)} (its incremental check did not pass)`;
  }
  // Landings interrupted after their ref update: every commit from `actual` back to `expected` on
  // the first-parent line is one of them, newest first, each task once (a batch at most per task).
  const landings = new Map((await repository.landings(actual, expected)).map((l) => [l.commit, l]));
  const chain: Landing[] = [];
  for (let c = actual; c !== expected;) {
    const l = landings.get(c);
    if (!l || l.run !== ctx.run || chain.some((x) => x.task === l.task) || chain.length >= s.order.length)
      throw refused;
    const parents = await repository.parents(c);
    const verified = s.tasks[l.task]?.verified?.commit;
    // squash: the landing before its only parent; merge: the verified commit its second.
    const shapeOk = parents.length === 1 || (parents.length === 2 && parents[1] === l.verified);
    const parent = parents[0];
    if (parent === undefined || verified !== l.verified || !shapeOk) throw refused;
    const tree = await repository.revParse(`${c}^{tree}`);
    if (tree !== (await repository.mergedTree(parent, l.verified))) throw refused;
    chain.push(l);
    c = parent;
  }
  const names = chain
    .reverse()
    .map((l) => `${l.task} (${l.verified.slice(0, 12)})`)
    .join(', ');
  return `reconciled on resume: orch's own landing of ${names}`;
}
