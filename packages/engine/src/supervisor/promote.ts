/**
 * Promotion: the base branch moves by fast-forward to the staging tip orch journaled (never to
 * whatever the ref says: a staging ref moved by anyone else stops the run, see merge/guard.ts). A branch checked out in some
 * worktree is never moved with update-ref (its index and files would go stale); the user's checkout
 * is fast-forwarded in place only when its tracked files are clean, otherwise orch stops and says
 * exactly what to run.
 */
import { casUpdateRef, fastForwardCheckout, mergeIntoRef } from '@orch/git';
import { OrchError } from '@orch/core';
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
    `git -C ${JSON.stringify(dir)} merge --ff-only ${stagingBranch(ctx.run)}`;
  for (let i = 0; i < ATTEMPTS; i += 1) {
    let staging = await guardedStagingTip(ctx);
    const baseTip = await ctx.repo.revParse(baseRef);
    if (!(await ctx.repo.isAncestor(baseTip, staging))) {
      // The base moved during the run: bring it into staging and check again before promoting.
      const m = await mergeIntoRef(ctx.repo, {
        target: stagingRef,
        source: baseTip,
        message: `orch: merge ${s.base} into staging (run ${ctx.run})`,
        expectedOld: staging,
      }).catch(async (e: unknown) => {
        if (e instanceof OrchError && e.code === 'ERR_ORCH_REF_MOVED')
          throw stagingTampered(ctx.run, staging, await ctx.repo.tryRevParse(stagingRef));
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
    const where = (await ctx.repo.checkedOutBranches()).get(s.base);
    if (where) {
      const dirty = (await ctx.repo.statusPorcelain(where)).filter((l) => !l.startsWith('??'));
      if (dirty.length > 0) {
        return {
          ok: false,
          reason: `${s.base} is checked out at ${where} with uncommitted changes; orch did not touch it`,
          command: command(where),
        };
      }
      try {
        await fastForwardCheckout(where, staging);
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
      await casUpdateRef(ctx.repo, baseRef, staging, baseTip);
      return { ok: true, from: baseTip, to: staging };
    } catch (e) {
      if (e instanceof OrchError && e.code === 'ERR_ORCH_REF_MOVED') continue;
      throw e;
    }
  }
  return {
    ok: false,
    reason: `${s.base} kept moving during promotion`,
    command: `git merge --ff-only ${stagingBranch(ctx.run)}`,
  };
}
