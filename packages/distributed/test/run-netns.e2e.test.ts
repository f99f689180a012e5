/**
 * A whole distributed `orch run --store redis://… --remote ssh://…` across machines (`startCluster`):
 * the built CLI as the user runs it, its supervisor in its checkout on the `sup` node, three
 * `orch host`s each on a node of its own (seeing only its own work directory), Redis and the git
 * remote (a bare repository behind a real sshd) on the `svc` node, all on a bridge. The hosts reach
 * the remote with the machine's ssh configuration (no GIT_SSH_COMMAND of their own), so they share
 * their SSH connections themselves. This file's run is uninterrupted; `run-netns-lost.e2e` loses a
 * host and the supervisor's machine in one run (on a cluster of its own, side by side with this one).
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunState } from '@orch/core';
import { IDS, RUN_TIMEOUT_MS, git, netnsRunForFile, placedOf, trouble } from './netns-run.js';

const w = netnsRunForFile({ supervisors: 1 });

describe('orch run --store --remote across network namespaces', () => {
  it('a 12-task plan in 3 waves runs across the three hosts: every task merged once, staging on the remote, the checkout promoted', async () => {
    const { c } = w;
    const repo = await w.checkout('reference');
    const r = await c.orch('sup', w.runArgs(), { cwd: repo, timeoutMs: RUN_TIMEOUT_MS });
    expect(r.stderr).not.toContain('Error');
    const state = JSON.parse(r.stdout) as RunState;
    expect({
      exit: r.exitCode,
      outcome: state.outcome,
      reason: state.reason,
      trouble: trouble((await w.history(state.run)).events),
    }).toEqual({ exit: 0, outcome: 'succeeded', reason: undefined, trouble: [] });
    const { events } = await w.history(state.run);
    // Staging holds what the plan's tasks make applied one after another at the base.
    expect(await w.expectFinished(state.run, events)).toBe(w.referenceTree);
    // Each task was placed once, and every host ran some of them.
    const placed = placedOf(events);
    expect(placed.map(([t]) => t).sort()).toEqual([...IDS].sort());
    expect(new Set(placed.map(([, h]) => h))).toEqual(new Set(c.hosts));
    // The checkout was fast-forwarded to staging; the remote's main is the user's base still.
    expect(await git(repo, 'rev-parse', 'HEAD')).toBe(
      await c.remote.git('rev-parse', `refs/heads/orch/${state.run}/staging`),
    );
    expect(await c.remote.git('rev-parse', 'refs/heads/main')).toBe(w.base);
    // Each host's git shared one SSH connection (its own ControlMaster: the user set no ssh
    // command), whose socket is in a folder of its work directory that only its user enters.
    for (const h of c.hosts) {
      const control = join(c.dir(h), 'host', 'ssh');
      expect((await stat(control)).mode & 0o777).toBe(0o700);
      expect(await readdir(control)).toHaveLength(1);
    }
  }, 300_000);
});
