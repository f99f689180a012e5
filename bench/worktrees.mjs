#!/usr/bin/env node
// Worktree provisioning: orch's `addWorktree` (serialized per repository, with its lock file and
// crash-safety checks) creating N worktrees, against a plain loop of `git worktree add -b` on the
// same repository, each from a fresh clone of the same generated repository so neither warms the
// other's cache of a new checkout. `--smoke`: 2 worktrees of a 200-file repository, one round.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertBuilt, generatedRepo, git, ms, parseFlags, report, root } from './lib.mjs';

const flags = parseFlags();
const N = flags.smoke ? 2 : 20;
const FILES = flags.smoke ? 200 : 5000;
const ROUNDS = flags.smoke ? 1 : 2;

assertBuilt();
const { Repo, addWorktree } = await import(join(root, 'packages/git/dist/index.js'));

async function cloneOf(src) {
  const dir = await mkdtemp(join(tmpdir(), 'orch-bench-wt-'));
  execFileSync('git', ['clone', '-q', '--no-hardlinks', src, join(dir, 'repo')]);
  return { dir: join(dir, 'repo'), cleanup: () => rm(dir, { recursive: true, force: true }) };
}

async function timeOrch(dir) {
  const repo = await Repo.open(dir);
  const head = git(dir, 'rev-parse', 'HEAD');
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    await addWorktree(repo, {
      path: join(dir, '.worktrees', `t${i}`),
      branch: `orch/bench/t${i}`,
      commit: head,
    });
  }
  return performance.now() - t0;
}

function timePlain(dir) {
  const head = git(dir, 'rev-parse', 'HEAD');
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    execFileSync(
      'git',
      ['worktree', 'add', '-q', '-b', `plain/t${i}`, join(dir, '.worktrees', `t${i}`), head],
      {
        cwd: dir,
        stdio: 'ignore',
      },
    );
  }
  return performance.now() - t0;
}

const src = await generatedRepo(FILES);
try {
  // Alternate the order so a warming disk cache favours neither side.
  const times = { orch: [], plain: [] };
  const orders = [
    ['plain', 'orch'],
    ['orch', 'plain'],
  ];
  for (const order of flags.smoke ? orders.slice(0, 1) : orders) {
    for (const which of order) {
      const c = await cloneOf(src.dir);
      // Let the disk finish writing back the previous round's files (and their deletion) first:
      // otherwise whichever side runs second pays for the first side's writeback.
      execFileSync('sync');
      try {
        times[which].push(which === 'orch' ? await timeOrch(c.dir) : timePlain(c.dir));
      } finally {
        await c.cleanup();
        execFileSync('sync');
      }
    }
  }
  const best = (xs) => Math.min(...xs);
  const o = best(times.orch);
  const p = best(times.plain);
  const rows = [
    {
      metric: `worktree provisioning, ${N} worktrees of a ${FILES.toLocaleString('en')}-file repository: orch \`addWorktree\` (best of ${ROUNDS})`,
      measured: `${ms(o)} (${ms(o / N)} each)`,
      goal: '',
    },
    {
      metric: `same, plain loop of \`git worktree add -b\` (best of ${ROUNDS})`,
      measured: `${ms(p)} (${ms(p / N)} each)`,
      goal: '',
    },
    { metric: 'orch / plain', measured: `${(o / p).toFixed(2)}×`, goal: '' },
  ];
  report('worktree provisioning', rows, flags);
} finally {
  await src.cleanup();
}
