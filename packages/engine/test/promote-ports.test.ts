/**
 * Promotion on the ports: the base branch moves by compare-and-swap when no checkout has it, the
 * user's checkout is fast-forwarded in place when nothing of theirs is in the way, and otherwise
 * nothing moves and the printed command keeps their changes. No git: a repository of made-up
 * commits and the user's checkouts as records.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryRepository, type FakeUserCheckout } from '@orch/test-utils';
import { stagingBranch } from '../src/run/context.js';
import { promote } from '../src/supervisor/promote.js';
import { BASE, RUN, portsContext, type PortsWorld } from './ports-context.js';

const STAGED = 'staged1';
const HOME = '/home/user/project';

let w: PortsWorld | undefined;
afterEach(async () => {
  await w?.cleanup();
  w = undefined;
});

/** A run whose staging is one journaled commit past the base; the base is at the run's start. */
async function staged(setup: (checkout: FakeUserCheckout) => void = () => undefined): Promise<PortsWorld> {
  const repo = new MemoryRepository();
  repo.commit(BASE);
  repo.commit(STAGED, [BASE]);
  repo.branch('main', BASE).branch(stagingBranch(RUN), STAGED);
  w = await portsContext({
    tasks: [{ id: 'a' }],
    events: [{ type: 'staging.moved', from: BASE, to: STAGED, reason: 'merge a' }],
    repo,
  });
  setup(w.checkout);
  return w;
}

describe('promote on the ports', () => {
  it('moves a base branch no checkout has to the journaled staging tip, by compare-and-swap', async () => {
    const { ctx, repo, checkout } = await staged();
    expect(await promote(ctx)).toEqual({ ok: true, from: BASE, to: STAGED });
    expect(repo.refs.get('refs/heads/main')).toBe(STAGED);
    expect(checkout.fastForwards).toEqual([]);
  });

  it("fast-forwards the user's checkout in place, overwriting only untracked files that hold the new bytes", async () => {
    const { ctx, repo, checkout } = await staged((c) => {
      c.checkedOut.set('main', HOME);
      c.obstaclesAt.set(HOME, { dirty: [], overlapping: [], identical: ['contracts/api.ts'], different: [] });
    });
    expect(await promote(ctx)).toEqual({ ok: true, from: BASE, to: STAGED });
    expect(checkout.fastForwards).toEqual([
      { path: HOME, to: STAGED, overwriteIdentical: ['contracts/api.ts'] },
    ]);
    // The checkout's own fast-forward moves the branch; the ref is never updated under it.
    expect(repo.log).toEqual([]);
  });

  it('stops at a checkout whose uncommitted changes the run also changes, and moves nothing', async () => {
    const { ctx, repo, checkout } = await staged((c) => {
      c.checkedOut.set('main', HOME);
      c.obstaclesAt.set(HOME, { dirty: ['a.txt'], overlapping: ['a.txt'], identical: [], different: [] });
    });
    const r = await promote(ctx);
    expect(r.ok).toBe(false);
    expect(r.reason).toContain('uncommitted changes (a.txt)');
    expect(r.command).toContain('stash push --include-untracked');
    expect(r.command).toContain(`merge --ff-only ${stagingBranch(RUN)}`);
    expect(checkout.fastForwards).toEqual([]);
    expect(repo.refs.get('refs/heads/main')).toBe(BASE);
  });
});
