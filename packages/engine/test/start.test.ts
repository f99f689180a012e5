import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isolatedTmux, tempRepo, type TempRepo } from '@orch/test-utils';
import { prepareRun } from '../src/run/start.js';

const plan = (id: string): string => `request: ${id}
tasks:
  - id: ${id}
    agent: shell
    files_write: [src/${id}.txt]
    verification: [{ command: "test -s src/${id}.txt" }]
    run: echo ${id} > src/${id}.txt
`;

describe('prepareRun', () => {
  let here: TempRepo;
  let there: TempRepo;
  let tmux: Awaited<ReturnType<typeof isolatedTmux>>;
  const saved = { cwd: process.cwd(), tmux: process.env.TMUX_TMPDIR };

  beforeEach(async () => {
    tmux = await isolatedTmux();
    process.env.TMUX_TMPDIR = tmux.env.TMUX_TMPDIR;
    here = await tempRepo({ 'tasks.yaml': plan('here') });
    there = await tempRepo({ 'tasks.yaml': plan('there') });
  });
  afterEach(async () => {
    process.chdir(saved.cwd);
    process.env.TMUX_TMPDIR = saved.tmux;
    await tmux.cleanup();
    await here.cleanup();
    await there.cleanup();
  });

  it("reads a relative plan path in the run's folder, not in the process's", async () => {
    // `orch demo <dir>` started from a repository that has its own tasks.yaml.
    process.chdir(here.root);
    const prepared = await prepareRun({ cwd: there.root, planPath: 'tasks.yaml', approve: async () => true });
    expect(prepared.repoRoot).toBe(there.root);
    expect(prepared.plan.tasks.map((t) => t.id)).toEqual(['there']);
  });
});
