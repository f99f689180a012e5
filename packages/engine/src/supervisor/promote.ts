/**
 * Promotion: the base branch moves by fast-forward to the staging tip orch journaled (never to
 * whatever the ref says: a staging ref moved by anyone else stops the run, see merge/guard.ts). A branch checked out in some
 * worktree is never moved with update-ref (its index and files would go stale); the user's checkout
 * is fast-forwarded in place only when its tracked files are clean and nothing of the user's is in
 * the way (untracked files that already hold exactly the new bytes, such as the contracts orch
 * committed from this checkout, are not in the way); otherwise orch stops and prints a command that
 * works as printed.
 */
import type { CheckoutObstacles } from '@orch/git';
import { shellQuote, shellQuoteAll, isOrchError } from '@orch/core';
import { runFinalIntegration } from '../integrate/final.js';
import { guardedStagingTip, stagingTampered } from '../merge/guard.js';
import { requireState, stagingBranch, type RunContext } from '../run/context.js';

export interface PromotionResult {
  ok: boolean;
  from?: string;
  to?: string;
  reason?: string;
  command?: string;
}

const ATTEMPTS = 3;

export async function promote(ctx: RunContext): Promise<PromotionResult> {
  const s = requireState(ctx);
  const baseRef = `refs/heads/${s.base}`;
  const stagingRef = `refs/heads/${stagingBranch(ctx.run)}`;
  const command = (dir: string): string =>
    `git -C ${shellQuote(dir)} merge --ff-only ${stagingBranch(ctx.run)}`;
  for (let i = 0; i < ATTEMPTS; i += 1) {
    let staging = await guardedStagingTip(ctx);
    const baseTip = await ctx.repository.revParse(baseRef);
    if (!(await ctx.repository.isAncestor(baseTip, staging))) {
      // The base moved during the run: bring it into staging and check again before promoting.
      const m = await ctx.repository
        .mergeInto({
          target: stagingRef,
          source: baseTip,
          message: `orch: merge ${s.base} into staging (run ${ctx.run})`,
          expectedOld: staging,
        })
        .catch(async (e: unknown) => {
          if (isOrchError(e, 'ERR_ORCH_REF_MOVED'))
            throw stagingTampered(ctx.run, staging, await ctx.repository.tryRevParse(stagingRef));
          throw e;
        });
      if (m.status === 'conflict') {
        return {
          ok: false,
          reason: `${s.base} moved during the run and conflicts with staging in ${m.files.join(', ')}`,
          command: `git merge ${stagingBranch(ctx.run)}`,
        };
      }
      if (m.status === 'merged') {
        await ctx.journal.append({
          type: 'staging.moved',
          from: staging,
          to: m.commit,
          reason: `merge ${s.base}`,
        });
        staging = m.commit;
        const again = await runFinalIntegration(ctx, staging);
        if (!again.ok)
          return {
            ok: false,
            reason: `integration failed after merging the new ${s.base}: ${again.summary}`,
          };
      }
    }
    // Checked out somewhere: the user's checkout moves in place, or not at all.
    const where = await ctx.userCheckout.checkedOutAt(s.base);
    if (where) {
      const o = await ctx.userCheckout.obstacles(where, baseTip, staging);
      const stop = checkoutStop(o, { where, base: s.base, staging: stagingBranch(ctx.run) });
      if (stop) return { ok: false, ...stop };
      try {
        // Untracked files that already hold exactly the new bytes (e.g. the plan's contracts orch
        // took from this checkout) are no obstacle: writing them again changes nothing.
        await ctx.userCheckout.fastForward(where, staging, { overwriteIdentical: o.identical });
      } catch (e) {
        return {
          ok: false,
          reason: `fast-forwarding your checkout failed: ${e instanceof Error ? e.message : String(e)}`,
          command: command(where),
        };
      }
      return { ok: true, from: baseTip, to: staging };
    }
    try {
      await ctx.repository.updateRef(baseRef, staging, baseTip);
      return { ok: true, from: baseTip, to: staging };
    } catch (e) {
      if (isOrchError(e, 'ERR_ORCH_REF_MOVED')) continue;
      // A supervisor away from the user's checkout pushes the base on the remote: a refused push
      // (the base moved there) is never forced; the run stops for a person.
      if (isOrchError(e, 'ERR_ORCH_REMOTE'))
        return {
          ok: false,
          reason: `ERR_ORCH_REMOTE: ${e.message}`,
          command: `git fetch <remote> ${stagingBranch(ctx.run)} && git merge --ff-only FETCH_HEAD`,
        };
      throw e;
    }
  }
  return {
    ok: false,
    reason: `${s.base} kept moving during promotion`,
    command: `git merge --ff-only ${stagingBranch(ctx.run)}`,
  };
}

/**
 * Why promotion stops at a checkout, and a command that works when run as printed. Uncommitted
 * changes to tracked files always stop it (orch never moves a branch under someone's edits); when
 * none of them, nor any untracked file, is in the way of the run's changes, git's own
 * fast-forward keeps them as they are. Otherwise the command first puts exactly the files in the
 * way into a stash, so nothing of the user's is lost or overwritten.
 */
export function checkoutStop(
  o: CheckoutObstacles,
  at: { where: string; base: string; staging: string },
): { reason: string; command: string } | undefined {
  if (o.dirty.length === 0 && o.different.length === 0) return undefined;
  const git = `git -C ${shellQuote(at.where)}`;
  const merge = `${git} merge --ff-only ${at.staging}`;
  const inTheWay = [...o.overlapping, ...o.different.map((d) => d.path)];
  const reasons: string[] = [];
  if (o.dirty.length > 0)
    reasons.push(`${at.base} is checked out at ${at.where} with uncommitted changes (${list(o.dirty)})`);
  if (inTheWay.length > 0)
    reasons.push(`the run also changes ${list(inTheWay)}, which you changed or created there`);
  // Untracked files identical to the run's version would stop a plain merge too: they go into the
  // stash with the others (their bytes are in the merge result as well).
  const stash = [...inTheWay, ...o.identical];
  if (stash.length === 0)
    return {
      reason: `${reasons.join('; ')}; orch did not touch it. The command keeps your changes as they are`,
      command: merge,
    };
  const flag = o.different.some((d) => d.ignored) ? '--all' : '--include-untracked';
  return {
    reason:
      `${reasons.join('; ')}; orch did not touch it. The command first stashes your versions of ` +
      `${list(stash)} (see \`git stash list\`), then fast-forwards; your other changes stay as they are`,
    command: `${git} stash push ${flag} -m ${shellQuote(`orch ${at.staging}: your versions`)} -- ${shellQuoteAll(stash)} && ${merge}`,
  };
}

function list(paths: string[]): string {
  return paths.length <= 5
    ? paths.join(', ')
    : `${paths.slice(0, 5).join(', ')} and ${paths.length - 5} more`;
}
