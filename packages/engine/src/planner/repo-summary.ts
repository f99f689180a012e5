import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { trackedFiles } from '../repo-files.js';

/** What the planner is told about the repository before it reads anything itself. */
export interface RepoSummary {
  root: string;
  totalFiles: number;
  /** Tracked files, or directories with file counts when there are too many to list. */
  tree: string[];
  treeTruncated: boolean;
  languages: { language: string; files: number }[];
  commands: { kind: 'test' | 'build' | 'lint' | 'typecheck' | 'check'; command: string; source: string }[];
  contracts: string[];
}

/** Above this many files the tree is summarized by directory. */
export const MAX_TREE_FILES = 200;
const MAX_TREE_DIRS = 120;

const LANGUAGES: Record<string, string> = {
  '.ts': 'TypeScript',
  '.tsx': 'TypeScript',
  '.mts': 'TypeScript',
  '.cts': 'TypeScript',
  '.js': 'JavaScript',
  '.jsx': 'JavaScript',
  '.mjs': 'JavaScript',
  '.cjs': 'JavaScript',
  '.py': 'Python',
  '.go': 'Go',
  '.rs': 'Rust',
  '.java': 'Java',
  '.kt': 'Kotlin',
  '.rb': 'Ruby',
  '.php': 'PHP',
  '.cs': 'C#',
  '.c': 'C',
  '.h': 'C',
  '.cc': 'C++',
  '.cpp': 'C++',
  '.hpp': 'C++',
  '.swift': 'Swift',
  '.scala': 'Scala',
  '.sh': 'Shell',
  '.sql': 'SQL',
  '.vue': 'Vue',
  '.svelte': 'Svelte',
  '.css': 'CSS',
  '.scss': 'CSS',
  '.html': 'HTML',
  '.md': 'Markdown',
};

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

function directoryTree(files: string[]): string[] {
  const counts = new Map<string, number>();
  const topFiles: string[] = [];
  for (const f of files) {
    const parts = f.split('/');
    if (parts.length === 1) topFiles.push(f);
    else {
      const dir = parts.slice(0, Math.min(2, parts.length - 1)).join('/');
      counts.set(`${dir}/`, (counts.get(`${dir}/`) ?? 0) + 1);
    }
  }
  const dirs = [...counts.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([d, n]) => `${d} (${n} files)`);
  return [...topFiles.sort(), ...dirs].slice(0, MAX_TREE_DIRS);
}

type Command = RepoSummary['commands'][number];

async function nodeCommands(root: string, files: Set<string>): Promise<Command[]> {
  const text = await readIfExists(join(root, 'package.json'));
  if (text === undefined) return [];
  let scripts: Record<string, unknown> = {};
  try {
    scripts = ((JSON.parse(text) as { scripts?: Record<string, unknown> }).scripts ?? {}) as Record<
      string,
      unknown
    >;
  } catch {
    return [];
  }
  const pm = files.has('pnpm-lock.yaml')
    ? 'pnpm'
    : files.has('yarn.lock')
      ? 'yarn'
      : files.has('bun.lockb') || files.has('bun.lock')
        ? 'bun'
        : 'npm';
  const out: Command[] = [];
  const kinds: [Command['kind'], string[]][] = [
    ['test', ['test']],
    ['build', ['build']],
    ['lint', ['lint']],
    ['typecheck', ['typecheck', 'type-check', 'tsc']],
    ['check', ['check']],
  ];
  for (const [kind, names] of kinds) {
    const name = names.find((n) => typeof scripts[n] === 'string');
    if (name)
      out.push({
        kind,
        command: `${pm} run ${name}`,
        source: `package.json scripts.${name}: ${String(scripts[name])}`,
      });
  }
  return out;
}

async function pythonCommands(root: string, files: Set<string>): Promise<Command[]> {
  const text = await readIfExists(join(root, 'pyproject.toml'));
  if (text === undefined) return [];
  const run = files.has('uv.lock') ? 'uv run ' : files.has('poetry.lock') ? 'poetry run ' : '';
  const out: Command[] = [];
  if (
    /\[tool\.pytest|pytest/.test(text) ||
    [...files].some((f) => /(^|\/)tests?\//.test(f) && f.endsWith('.py'))
  ) {
    out.push({ kind: 'test', command: `${run}pytest`, source: 'pyproject.toml' });
  }
  if (/\[tool\.mypy/.test(text))
    out.push({ kind: 'typecheck', command: `${run}mypy .`, source: 'pyproject.toml [tool.mypy]' });
  if (/\[tool\.ruff/.test(text))
    out.push({ kind: 'lint', command: `${run}ruff check .`, source: 'pyproject.toml [tool.ruff]' });
  return out;
}

async function makeCommands(root: string): Promise<Command[]> {
  const text = await readIfExists(join(root, 'Makefile'));
  if (text === undefined) return [];
  const out: Command[] = [];
  for (const kind of ['test', 'build', 'lint', 'typecheck', 'check'] as const) {
    if (new RegExp(`^${kind}\\s*:`, 'm').test(text))
      out.push({ kind, command: `make ${kind}`, source: `Makefile target ${kind}` });
  }
  return out;
}

/** A size-limited summary of the repository at `root` (tracked files only). */
export async function summarizeRepo(root: string): Promise<RepoSummary> {
  const files = (await trackedFiles(root)).sort();
  const set = new Set(files);
  const counts = new Map<string, number>();
  for (const f of files) {
    const lang = LANGUAGES[extname(f).toLowerCase()];
    if (lang) counts.set(lang, (counts.get(lang) ?? 0) + 1);
  }
  const commands: Command[] = [
    ...(await nodeCommands(root, set)),
    ...(await pythonCommands(root, set)),
    ...(existsSync(join(root, 'Cargo.toml'))
      ? [
          { kind: 'test' as const, command: 'cargo test', source: 'Cargo.toml' },
          { kind: 'build' as const, command: 'cargo build', source: 'Cargo.toml' },
        ]
      : []),
    ...(existsSync(join(root, 'go.mod'))
      ? [
          { kind: 'test' as const, command: 'go test ./...', source: 'go.mod' },
          { kind: 'build' as const, command: 'go build ./...', source: 'go.mod' },
          { kind: 'lint' as const, command: 'go vet ./...', source: 'go.mod' },
        ]
      : []),
    ...(await makeCommands(root)),
  ];
  const truncated = files.length > MAX_TREE_FILES;
  return {
    root,
    totalFiles: files.length,
    tree: truncated ? directoryTree(files) : files,
    treeTruncated: truncated,
    languages: [...counts.entries()]
      .map(([language, n]) => ({ language, files: n }))
      .sort((a, b) => b.files - a.files || a.language.localeCompare(b.language)),
    commands,
    contracts: files.filter((f) => f.startsWith('contracts/')),
  };
}

/** The summary as Markdown for the planner's prompt. */
export function renderRepoSummary(s: RepoSummary): string {
  const lines = [`Files tracked by git: ${s.totalFiles}`, ''];
  lines.push(s.treeTruncated ? 'Layout (directories with file counts):' : 'Files:');
  for (const t of s.tree) lines.push(`- ${t}`);
  lines.push(
    '',
    'Languages (files): ' +
      (s.languages.length ? s.languages.map((l) => `${l.language} ${l.files}`).join(', ') : 'none detected'),
  );
  lines.push('', 'Detected commands:');
  if (s.commands.length === 0)
    lines.push('- none detected; find out how tests run before writing verification commands');
  for (const c of s.commands) lines.push(`- ${c.kind}: \`${c.command}\` (${c.source})`);
  lines.push('', 'Existing contracts:');
  if (s.contracts.length === 0) lines.push('- none');
  for (const c of s.contracts) lines.push(`- ${c}`);
  return lines.join('\n');
}
