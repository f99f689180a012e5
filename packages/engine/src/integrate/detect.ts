/**
 * Finds a project's own check commands (tests, type check, lint, audit) from its files, so the
 * incremental and final checks need no configuration for common setups: from a directory, or from
 * a commit's tree (no checkout needed).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Repository } from '../ports/repository.js';

export interface ProjectCommands {
  test?: string;
  typecheck?: string;
  lint?: string;
  audit?: string;
  build?: string;
  packageManager?: 'npm' | 'pnpm' | 'yarn' | 'bun';
}

/** The files detection reads: whether a top-level file exists, and its text. */
interface ProjectFiles {
  has(file: string): boolean;
  read(file: string): Promise<string>;
}

export function detectCommands(dir: string): Promise<ProjectCommands> {
  return detectIn({
    has: (f) => existsSync(join(dir, f)),
    read: (f) => readFile(join(dir, f), 'utf8'),
  });
}

/** The same, read from `commit` (its tracked files) through the repository port. */
export async function detectCommandsAt(repository: Repository, commit: string): Promise<ProjectCommands> {
  const paths = new Set((await repository.lsTree(commit)).map((e) => e.path));
  return detectIn({
    has: (f) => paths.has(f),
    read: async (f) => (await repository.readFile(commit, f)) ?? '',
  });
}

async function detectIn({ has, read }: ProjectFiles): Promise<ProjectCommands> {
  const out: ProjectCommands = {};
  if (has('package.json')) {
    const pm = has('pnpm-lock.yaml')
      ? 'pnpm'
      : has('yarn.lock')
        ? 'yarn'
        : has('bun.lockb') || has('bun.lock')
          ? 'bun'
          : 'npm';
    out.packageManager = pm;
    let scripts: Record<string, string> = {};
    try {
      scripts =
        (
          JSON.parse(await read('package.json')) as {
            scripts?: Record<string, string>;
          }
        ).scripts ?? {};
    } catch {
      scripts = {};
    }
    const run = (s: string): string => (pm === 'npm' ? `npm run -s ${s}` : `${pm} run ${s}`);
    if (scripts.test && !/no test specified/.test(scripts.test))
      out.test = pm === 'npm' ? 'npm test --silent' : `${pm} test`;
    if (scripts.typecheck) out.typecheck = run('typecheck');
    else if (has('tsconfig.json')) out.typecheck = 'npx --no-install tsc --noEmit';
    if (scripts.lint) out.lint = run('lint');
    if (scripts.build) out.build = run('build');
    if (has('package-lock.json') || has('pnpm-lock.yaml'))
      out.audit = `${pm === 'pnpm' ? 'pnpm' : 'npm'} audit --json`;
  } else if (has('pyproject.toml') || has('setup.py') || has('requirements.txt')) {
    out.test = 'python3 -m pytest -q';
    if (has('requirements.txt') || has('poetry.lock') || has('uv.lock')) out.audit = 'pip-audit -f json';
  } else if (has('Cargo.toml')) {
    out.test = 'cargo test';
    out.typecheck = 'cargo check';
    if (has('Cargo.lock')) out.audit = 'cargo audit --json';
  } else if (has('go.mod')) {
    out.test = 'go test ./...';
    out.typecheck = 'go vet ./...';
  } else if (has('Makefile')) {
    const mk = await read('Makefile').catch(() => '');
    if (/^test:/m.test(mk)) out.test = 'make test';
  }
  return out;
}
