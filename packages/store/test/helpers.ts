import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build, type Plugin } from 'esbuild';
import { runStarted } from '@orch/test-utils';
import { appendEvent } from '../src/journal.js';

const exec = promisify(execFile);
export const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const packagesDir = fileURLToPath(new URL('../../', import.meta.url));

/** The store's `../../dist/index.js` and every `@orch/x` resolve to sources, as in the tests. */
const sources: Plugin = {
  name: 'orch-sources',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/\.\.\/dist\/index\.js$/ }, () => ({
      path: join(packagesDir, 'store/src/index.ts'),
    }));
    b.onResolve({ filter: /^@orch\/[a-z-]+$/ }, (a) => ({
      path: join(packagesDir, a.path.slice('@orch/'.length), 'src/index.ts'),
    }));
  },
};

let outDir: string | undefined;
const bundled = new Map<string, Promise<string>>();

/**
 * A fixture script bundled with the store's sources (never a possibly stale build), once per test
 * process; returns the path of the bundle to run with node.
 */
export function fixtureScript(name: string): Promise<string> {
  let out = bundled.get(name);
  if (!out) {
    if (outDir === undefined) {
      const dir = mkdtempSync(join(tmpdir(), 'orch-store-fixtures-'));
      process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
      outDir = dir;
    }
    const outfile = join(outDir, name);
    out = build({
      entryPoints: [join(fixtures, name)],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'silent',
      plugins: [sources],
      // The bundled CommonJS dependencies (yaml) call require for Node's own modules.
      banner: {
        js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      },
    }).then(() => outfile);
    bundled.set(name, out);
  }
  return out;
}

/** Runs a fixture script (bundled with the store's sources) in its own Node process. */
export async function runFixture(
  name: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ stdout: string; stderr: string }> {
  return exec(process.execPath, [await fixtureScript(name), ...args], {
    env: { ...process.env, ...env },
    maxBuffer: 64 * 1024 * 1024,
    timeout: 120_000,
  });
}

export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'orch-store-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Starts a run in `runDir` with the given task ids (a `run.started` event). */
export async function startRun(runDir: string, tasks: string[], run = 'r1'): Promise<void> {
  await appendEvent(runDir, runStarted(tasks, { run, maxWorkers: 4 }));
}
