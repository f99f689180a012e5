import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { OrchError } from '@orch/core';
import { findAssetsRoot, listShippedFiles } from './assets.js';
import { unifiedDiff } from './diff.js';

export const InstallScope = z.enum(['user', 'project']);
export type InstallScope = z.infer<typeof InstallScope>;

export interface InstallOptions {
  scope: InstallScope;
  force?: boolean;
  /** Directory for project scope (default: the current directory). */
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Where the shipped `agents/` and `skills/` are (default: found next to the cli package). */
  assetsRoot?: string;
}

/**
 * created: new file; unchanged: already identical; updated: replaced an earlier orch version
 * nobody edited; overwritten: replaced a locally edited file (--force); skipped: locally edited,
 * left alone.
 */
export type InstallStatus = 'created' | 'unchanged' | 'updated' | 'overwritten' | 'skipped';

export interface InstalledFile {
  /** Relative to the target directory, `/`-separated. */
  path: string;
  status: InstallStatus;
  /** For skipped and overwritten files: from the installed file to the shipped one. */
  diff?: string;
}

export interface InstallResult {
  scope: InstallScope;
  target: string;
  files: InstalledFile[];
}

/** Records the hash of what orch wrote, so an upgrade can tell its own old files from local edits. */
const RECORD = '.orch-install.json';
const InstallRecord = z.object({ files: z.record(z.string(), z.string()) });

/** `$CLAUDE_CONFIG_DIR` or `~/.claude` for user scope; `<cwd>/.claude` for project scope. */
export function claudeDir(
  scope: InstallScope,
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): string {
  if (scope === 'project') return resolve(cwd, '.claude');
  if (env.CLAUDE_CONFIG_DIR) return resolve(env.CLAUDE_CONFIG_DIR);
  return join(env.HOME || homedir(), '.claude');
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

async function readOrNull(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

async function writeAtomic(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.orch-${process.pid}.tmp`;
  await writeFile(tmp, content);
  await rename(tmp, path);
}

/** Copies the agent definitions and the skill into a Claude Code config directory. */
export async function installClaudeFiles(opts: InstallOptions): Promise<InstallResult> {
  const target = claudeDir(opts.scope, opts.env, opts.cwd);
  const root = opts.assetsRoot ?? findAssetsRoot();
  const shipped = await listShippedFiles(root);
  const recordPath = join(target, RECORD);
  const recordText = await readOrNull(recordPath);
  const parsed = recordText === null ? null : InstallRecord.safeParse(safeJson(recordText));
  const record: Record<string, string> = parsed?.success ? { ...parsed.data.files } : {};

  const files: InstalledFile[] = [];
  for (const rel of shipped) {
    const content = await readFile(join(root, rel), 'utf8');
    const dest = join(target, rel);
    const current = await readOrNull(dest);
    let status: InstallStatus;
    let diff: string | undefined;
    if (current === null) status = 'created';
    else if (current === content) status = 'unchanged';
    else if (record[rel] === sha256(current)) status = 'updated';
    else {
      status = opts.force ? 'overwritten' : 'skipped';
      diff = unifiedDiff(current, content, {
        fromLabel: `${rel} (installed, edited)`,
        toLabel: `${rel} (orch)`,
        maxLines: 40,
      });
    }
    if (status === 'created' || status === 'updated' || status === 'overwritten')
      await writeAtomic(dest, content);
    if (status !== 'skipped') record[rel] = sha256(content);
    files.push(diff === undefined ? { path: rel, status } : { path: rel, status, diff });
  }
  const nextRecord = `${JSON.stringify({ files: record }, null, 2)}\n`;
  if (nextRecord !== recordText) await writeAtomic(recordPath, nextRecord);
  return { scope: opts.scope, target, files };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** The error for a run that left edited files alone. */
export function skippedError(result: InstallResult): OrchError | null {
  const skipped = result.files.filter((f) => f.status === 'skipped').map((f) => f.path);
  if (skipped.length === 0) return null;
  return new OrchError(
    'ERR_ORCH_INSTALL_EDITED',
    `${skipped.length} locally edited file(s) in ${result.target} were not overwritten: ${skipped.join(', ')}`,
    {
      hint: 'Keep your edits, or run `orch install --force` to replace them with the shipped versions.',
      details: { skipped },
    },
  );
}
