#!/usr/bin/env node
// `node bench/deps.mjs <npm-project> [rounds]`: how long a new worktree takes to get a node_modules
// of its own, on a real npm project (a folder with package.json, package-lock.json and an installed
// node_modules; npm's cache must hold its packages for `npm ci --offline`). Run by hand, not by
// `pnpm bench` (it needs a project installed from the registry). Each round makes a worktree and
// times orch's bootstrap in each mode, plus a hard-link copy for comparison; the disk writes back
// between steps so one step's write-back does not land on the next. Build first (`pnpm build`).
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { git, machine, median, root } from './lib.mjs';

const [project, roundsArg] = process.argv.slice(2);
if (
  !project ||
  !existsSync(join(project, 'node_modules')) ||
  !existsSync(join(project, 'package-lock.json'))
) {
  console.error(
    'usage: node bench/deps.mjs <folder with package.json, package-lock.json, node_modules> [rounds]',
  );
  process.exit(2);
}
const rounds = Number(roundsArg ?? 5);
const { bootstrapWorktree } = await import(
  pathToFileURL(join(root, 'packages/engine/dist/worker/bootstrap.js')).href
);
const { Config } = await import(pathToFileURL(join(root, 'packages/core/dist/index.js')).href);

function count(dir) {
  let files = 0;
  let bytes = 0;
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        files++;
        bytes += statSync(p).size;
      }
    }
  };
  walk(dir);
  return { files, mb: Math.round(bytes / 1e6) };
}

const sync = () => execFileSync('sync');
const repo = await mkdtemp(join(tmpdir(), 'orch-bench-deps-'));
try {
  for (const f of ['package.json', 'package-lock.json']) cpSync(join(project, f), join(repo, f));
  cpSync(join(project, 'node_modules'), join(repo, 'node_modules'), {
    recursive: true,
    verbatimSymlinks: true,
  });
  execFileSync('sh', ['-c', 'printf "node_modules/\\n.worktrees/\\n" > .gitignore'], { cwd: repo });
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, 'add', '-A');
  git(repo, '-c', 'user.name=b', '-c', 'user.email=b@b.invalid', 'commit', '-qm', 'project');
  const size = count(join(repo, 'node_modules'));
  const times = { copy: [], install: [], hardlink: [] };
  const loads = [loadavg()[0]];
  let n = 0;
  const timed = async (mode) => {
    const wt = join(repo, '.worktrees', `w${n++}`);
    git(repo, 'worktree', 'add', '-q', '--detach', wt);
    sync();
    const t0 = performance.now();
    if (mode === 'hardlink')
      execFileSync('cp', ['-al', join(repo, 'node_modules'), join(wt, 'node_modules')]);
    else {
      const config = Config.parse({ worktree: { install: mode === 'copy' ? 'auto' : 'install' } });
      const r = await bootstrapWorktree(repo, wt, config, process.env);
      if (!r.install.some((l) => l.startsWith('node_modules:'))) throw new Error(r.install.join('\n'));
    }
    sync();
    times[mode].push(performance.now() - t0);
    git(repo, 'worktree', 'remove', '--force', wt);
  };
  for (let i = 0; i < rounds; i++) {
    for (const mode of ['copy', 'install', 'hardlink']) await timed(mode);
    loads.push(loadavg()[0]);
  }
  const m = machine();
  const fmt = (xs) =>
    `${(median(xs) / 1000).toFixed(2)} s (${xs.map((x) => (x / 1000).toFixed(1)).join(', ')})`;
  console.log(`project: ${size.files} files, ${size.mb} MB in node_modules; ${rounds} rounds`);
  console.log(`machine: ${m.cores} × ${m.cpu}, ${m.os}; Node ${m.node}`);
  console.log(`load average (1 min) per round: ${loads.map((l) => l.toFixed(1)).join(', ')}`);
  console.log(`copy (worktree.install: auto, cp -a --reflink=auto), median (all): ${fmt(times.copy)}`);
  console.log(`install (worktree.install: install, npm ci --offline), median (all): ${fmt(times.install)}`);
  console.log(`hard links (cp -al, not used), median (all): ${fmt(times.hardlink)}`);
} finally {
  await rm(repo, { recursive: true, force: true });
}
