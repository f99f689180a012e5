/**
 * `orch demo`: builds the sample project in a folder, then runs its plan through the engine in this
 * process, exactly like `orch run --yes`: staging, worktrees, shell workers in tmux, verification,
 * merges, incremental checks, final integration, promotion and the report.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { ExitCode, OrchError, type RunEvent, type RunState } from '@orch/core';
import {
  orchBinPath,
  prepareRun,
  stagingBranch,
  superviseRun,
  tmuxFor,
  type PreparedRun,
} from '@orch/engine';
import { SAFE_GIT_CONFIG } from '@orch/git';
import { runPaths } from '@orch/store';
import { renderPlainDashboard } from '@orch/tui';
import { isOutputLost, paint, printJson, println, useColor } from '../../output.js';
import { describeEvent, outcomeExitCode } from '../run/progress.js';
import { outliveTerminal } from '../run/runner.js';
import type { LiveDashboard } from './live.js';
import { BASE_FILES, SAMPLE_TASKS, samplePlan } from './sample.js';
import { addRejectedPaths, renderSummary, summarizeDemo, type DemoSummary } from './summary.js';

export interface DemoOptions {
  /** false with --no-tui. */
  tui?: boolean;
  keep?: boolean;
  json?: boolean;
}

async function chooseDir(arg: string | undefined): Promise<{ dir: string; temp: boolean }> {
  if (!arg) return { dir: await mkdtemp(join(tmpdir(), 'orch-demo-')), temp: true };
  const dir = resolve(process.cwd(), arg);
  if (existsSync(dir) && (await readdir(dir)).length > 0) {
    throw new OrchError(
      'ERR_ORCH_DEMO_DIR_NOT_EMPTY',
      `${dir} is not empty; the demo builds its project in a new folder.`,
      {
        hint: 'Give a new or empty folder, or none for a temporary one: `orch demo`.',
        exitCode: ExitCode.Usage,
      },
    );
  }
  await mkdir(dir, { recursive: true });
  return { dir, temp: false };
}

/** The sample project as a git repository on `main`: the base code, then the plan. */
export async function createSampleRepo(dir: string): Promise<void> {
  const git = (...args: string[]) => execa('git', [...SAFE_GIT_CONFIG, ...args], { cwd: dir });
  await git('init', '-q', '-b', 'main');
  // Repository-local identity and settings: the demo never depends on, or changes, the user's git config.
  for (const [k, v] of [
    ['user.name', 'orch demo'],
    ['user.email', 'demo@orch.invalid'],
    ['commit.gpgsign', 'false'],
    ['gc.auto', '0'],
  ] as const) {
    await git('config', k, v);
  }
  for (const [path, content] of Object.entries(BASE_FILES)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  await git('add', '-A');
  await git('commit', '-q', '-m', 'textkit: words() and its test');
  const header = '# The plan of `orch demo`: seven shell tasks in three dependency waves.\n';
  await writeFile(join(dir, 'tasks.yaml'), header + stringify(samplePlan(), { lineWidth: 0 }));
  await git('add', 'tasks.yaml');
  await git('commit', '-q', '-m', 'plan: tasks.yaml for orch demo');
}

export async function demoCommand(dirArg: string | undefined, opts: DemoOptions): Promise<ExitCode> {
  const started = Date.now();
  const { dir, temp } = await chooseDir(dirArg);
  const keep = !temp || opts.keep === true;
  const plain = opts.json !== true;
  const out = (line: string): void => {
    if (plain) println(line);
  };
  out(`${paint('bold', 'orch demo')}: building the sample project textkit in ${dir}`);
  let prepared: PreparedRun;
  try {
    await createSampleRepo(dir);
    // Preflight (git, tmux, disk) happens here; a demo that cannot start leaves no temporary folder.
    prepared = await prepareRun({ cwd: dir, planPath: 'tasks.yaml', approve: () => Promise.resolve(true) });
  } catch (e) {
    if (temp) await rm(dir, { recursive: true, force: true });
    throw e;
  }
  out(
    `  ${SAMPLE_TASKS.length} tasks in 3 dependency waves, shell workers (no model, no API key); ` +
      `task toc will first write outside its files on purpose`,
  );

  const { repoRoot, run } = prepared;
  const loc = { repoRoot, runDir: runPaths(repoRoot, run).dir };
  out(
    `Run ${paint('bold', run)} on main (${prepared.baseCommit.slice(0, 8)}), staging ${stagingBranch(run)}`,
  );

  let live: LiveDashboard | undefined;
  if (plain && opts.tui !== false && process.stdout.isTTY && process.stdin.isTTY) {
    const { openDashboard } = await import('./live.js');
    live = openDashboard(loc, () => println('Dashboard closed; the run goes on (Ctrl-C stops it).'));
  }
  const events: RunEvent[] = [];
  const state = await superviseRun(repoRoot, run, orchBinPath(), {
    onHangup: outliveTerminal(repoRoot, run, () => void live?.close(0)),
    onEvent: (ev: RunEvent, s: RunState) => {
      events.push(ev);
      if (live?.open) {
        live.store.replace(s);
        return;
      }
      const line = plain ? describeEvent(ev, s) : undefined;
      if (line) println(line);
    },
  });
  if (live?.open && !isOutputLost()) {
    await live.close();
    // The alternate screen is gone with the dashboard: leave its final frame in the scrollback.
    process.stdout.write(
      renderPlainDashboard(state, { width: process.stdout.columns || 120, color: useColor() }),
    );
  }

  const succeeded = state.outcome === 'succeeded';
  // A failed demo is kept for inspection even in a temporary folder.
  const kept = keep || !succeeded;
  const summary: DemoSummary = summarizeDemo(state, events, {
    dir,
    kept,
    seconds: (Date.now() - started) / 1000,
    report: join(runPaths(repoRoot, run).reports, 'report.md'),
  });
  await addRejectedPaths(summary);
  if (!kept) await removeDemo(repoRoot);
  if (opts.json) printJson(summary);
  else for (const line of renderSummary(summary)) println(line);
  return outcomeExitCode(state);
}

/** Removes a temporary demo folder, and orch's tmux server for it (named for that folder, so only ours). */
async function removeDemo(repoRoot: string): Promise<void> {
  const tmux = await tmuxFor(repoRoot);
  await tmux.killServer().catch(() => undefined);
  await rm(repoRoot, { recursive: true, force: true });
}
