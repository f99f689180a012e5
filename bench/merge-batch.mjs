// The merge queue with six verified tasks waiting: merged together (one batch, one incremental
// check) against merged one after another (each with its own check, as before batching). Real temp
// repositories, the built engine (pnpm build first), an incremental check of `sleep 0.5` standing
// in for a test suite. Prints one line per round and the medians. Usage: node bench/merge-batch.mjs [rounds]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const load = (p) => import(pathToFileURL(join(root, 'packages', p)).href);
const { MergeQueue } = await load('engine/dist/merge/queue.js');
const { openRunContext } = await load('engine/dist/run/context.js');
const { prepareRun } = await load('engine/dist/run/start.js');
const { commitFilesOnto } = await load('git/dist/index.js');

const TASKS = ['a', 'b', 'c', 'd', 'e', 'f'];
const CHECK = 'sleep 0.5';
const ROUNDS = Number(process.argv[2] ?? 3);

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'orch-merge-bench-'));
  const git = (...args) => execFileSync('git', args, { cwd: dir, encoding: 'utf8' }).trim();
  git('init', '-q', '-b', 'main');
  git('config', 'user.name', 'bench');
  git('config', 'user.email', 'bench@orch.invalid');
  git('config', 'gc.auto', '0');
  const plan = TASKS.map(
    (t) =>
      `  - id: ${t}\n    agent: shell\n    files_write: [${t}.txt]\n    verification: [{ command: "true" }]\n    run: "true"\n`,
  ).join('');
  writeFileSync(join(dir, 'tasks.yaml'), `tasks:\n${plan}`);
  writeFileSync(join(dir, '.claude-agents.yaml'), `verification:\n  integration_command: '${CHECK}'\n`);
  git('add', '-A');
  git('commit', '-qm', 'initial');
  const prepared = await prepareRun({ cwd: dir, planPath: 'tasks.yaml', approve: async () => true });
  const ctx = await openRunContext(dir, prepared.run, 'orch');
  const pins = {};
  for (const t of TASKS) {
    git('branch', `work-${t}`, ctx.journal.state.stagingCommit);
    const c = await commitFilesOnto(ctx.repo, {
      branch: `work-${t}`,
      files: [{ path: `${t}.txt`, content: `${t}\n` }],
      message: t,
    });
    const tree = await ctx.repo.revParse(`${c.commit}^{tree}`);
    await ctx.journal.append({ type: 'task.verified', task: t, ok: true, headCommit: c.commit, tree });
    pins[t] = { commit: c.commit, tree, summary: t };
  }
  return { dir, ctx, pins };
}

async function round(mode) {
  const { dir, ctx, pins } = await setup();
  const queue = new MergeQueue(ctx);
  const t0 = performance.now();
  if (mode === 'batched') await Promise.all(TASKS.map((t) => queue.merge(t, 1, pins[t])));
  else for (const t of TASKS) await queue.merge(t, 1, pins[t]);
  const ms = performance.now() - t0;
  const batches = (await ctx.journal.history()).filter((e) => e.type === 'merge.batch');
  const checks = batches.reduce((n, b) => n + b.checks, 0);
  if (!batches.every((b) => b.ok)) throw new Error(`${mode}: a merge failed`);
  ctx.journal.close();
  rmSync(dir, { recursive: true, force: true });
  return { ms, checks, batches: batches.map((b) => b.tasks.length) };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = { batched: [], 'one-by-one': [] };
console.log(`6 verified tasks, incremental check \`${CHECK}\`, load ${loadavg()[0].toFixed(1)}`);
for (let i = 1; i <= ROUNDS; i++) {
  for (const mode of Object.keys(results)) {
    const r = await round(mode);
    results[mode].push(r.ms);
    console.log(
      `round ${i} ${mode}: ${Math.round(r.ms)} ms, ${r.checks} checks, batch sizes ${r.batches.join(' ')}`,
    );
  }
}
const [b, s] = [median(results.batched), median(results['one-by-one'])];
console.log(
  `median: batched ${Math.round(b)} ms, one-by-one ${Math.round(s)} ms (${(s / b).toFixed(1)}x); load ${loadavg()[0].toFixed(1)}`,
);
