/**
 * Promotion by a supervisor away from the user's checkout (a distributed run taken over on another
 * machine): the base branch moves on the remote, a push the remote refuses is never forced, and the
 * run stops for a person with the refusal in its reason. No git: a repository of made-up commits.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { OrchError } from '@orch/core';
import { MemoryRepository } from '@orch/test-utils';
import { stagingBranch } from '../src/run/context.js';
import { promote } from '../src/supervisor/promote.js';
import { BASE, RUN, portsContext, type PortsWorld } from './ports-context.js';

const STAGED = 'staged1';

let w: PortsWorld | undefined;
afterEach(async () => {
  await w?.cleanup();
  w = undefined;
});

describe('promote on a remote', () => {
  it('stops for a person when the remote refuses the push of the base, and moves nothing', async () => {
    const repo = new MemoryRepository();
    repo.commit(BASE);
    repo.commit(STAGED, [BASE]);
    repo.branch('main', BASE).branch(stagingBranch(RUN), STAGED);
    const inner = repo.updateRef.bind(repo);
    repo.updateRef = async (ref, next, expectedOld) => {
      if (ref === 'refs/heads/main')
        throw new OrchError(
          'ERR_ORCH_REMOTE',
          'run r: publishing refs/heads/main on the remote failed: stale info',
        );
      return inner(ref, next, expectedOld);
    };
    w = await portsContext({
      tasks: [{ id: 'a' }],
      events: [{ type: 'staging.moved', from: BASE, to: STAGED, reason: 'merge a' }],
      repo,
    });
    const p = await promote(w.ctx);
    expect(p).toMatchObject({ ok: false });
    expect(p.reason).toContain('ERR_ORCH_REMOTE');
    expect(p.reason).toContain('stale info');
    expect(p.command).toContain(`merge --ff-only`);
    expect(repo.refs.get('refs/heads/main')).toBe(BASE);
    expect(w.checkout.fastForwards).toEqual([]);
  });
});
