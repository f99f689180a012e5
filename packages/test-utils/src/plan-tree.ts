import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { parsePlan, topologicalOrder } from '@orch/core';
import { execa } from 'execa';

/**
 * The tree an uninterrupted run of a plan of `shell` tasks ends with, computed with no orch
 * involved: a plain clone of `source` at `base`; each task's `run` script by `bash -c` in it (as the
 * shell agent runs it), one after another in the plan's dependency order, with a no-op `orch` first
 * on PATH (the scripts report through it) and a no-op `sleep` (pacing that changes no file); then `git add -A` and `git write-tree`. Ownership keeps the
 * tasks' files disjoint, so a run's staging ends with this tree whatever order its merges took: a
 * test compares a run it interrupts with this instead of making an uninterrupted run too.
 */
export async function shellPlanTree(source: string, base: string, planYaml: string): Promise<string> {
  const plan = parsePlan(planYaml, 'tasks.yaml');
  const order = topologicalOrder(plan);
  if (!order) throw new Error('the plan has a cycle');
  const dir = await mkdtemp(join(tmpdir(), 'orch-plan-tree-'));
  try {
    const bin = join(dir, 'bin');
    await mkdir(bin);
    for (const noop of ['orch', 'sleep']) {
      await writeFile(join(bin, noop), '#!/bin/sh\nexit 0\n');
      await chmod(join(bin, noop), 0o755);
    }
    const work = join(dir, 'work');
    const env = {
      PATH: `${bin}${delimiter}${process.env.PATH ?? '/usr/bin:/bin'}`,
      GIT_AUTHOR_NAME: 'plan tree',
      GIT_AUTHOR_EMAIL: 'plan-tree@orch.invalid',
      GIT_COMMITTER_NAME: 'plan tree',
      GIT_COMMITTER_EMAIL: 'plan-tree@orch.invalid',
      GIT_CONFIG_NOSYSTEM: '1',
      HOME: dir,
    };
    const git = async (...args: string[]): Promise<string> =>
      String(
        (await execa('git', ['-c', 'core.hooksPath=/dev/null', ...args], { cwd: work, env, timeout: 30_000 }))
          .stdout,
      ).trim();
    await execa('git', ['clone', '-q', '--no-checkout', source, work], { env, timeout: 60_000 });
    await git('checkout', '-q', '--detach', base);
    const byId = new Map(plan.tasks.map((t) => [t.id, t]));
    for (const id of order) {
      const script = byId.get(id)?.run;
      if (script === undefined) throw new Error(`task ${id} is not a shell task with a run script`);
      await execa('bash', ['-c', script], { cwd: work, env, timeout: 60_000 });
    }
    await git('add', '-A');
    return await git('write-tree');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
