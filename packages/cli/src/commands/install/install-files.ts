import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import {
  ENGINE_ROLES,
  ExitCode,
  OrchError,
  mergeAllowRules,
  orchPermissionRules,
  registersOrchMcp,
} from '@orch/core';
import { findAssetsRoot, listShippedFiles } from './assets.js';
import { unifiedDiff } from './diff.js';

export const InstallScope = z.enum(['user', 'project']);
export type InstallScope = z.infer<typeof InstallScope>;

/** Where the permission rules go: `settings.json`, `settings.local.json` (project only), or nowhere. */
export const PermissionsTarget = z.enum(['settings', 'local', 'none']);
export type PermissionsTarget = z.infer<typeof PermissionsTarget>;

export interface InstallOptions {
  scope: InstallScope;
  force?: boolean;
  /** Directory for project scope (default: the current directory). */
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Where the shipped `agents/` and `skills/` are (default: found next to the cli package). */
  assetsRoot?: string;
  /** Default `settings`. */
  permissions?: PermissionsTarget;
  /**
   * Default true. False: only the permission rules, for the plugin's users, whose agents and skill
   * come with the plugin.
   */
  files?: boolean;
}

/**
 * created: new file; unchanged: already identical; updated: replaced an earlier orch version
 * nobody edited; overwritten: replaced a locally edited file (--force); skipped: locally edited,
 * left alone; removed: a file an earlier orch installed that orch no longer ships (the engine-only
 * agents), unedited.
 */
export type InstallStatus = 'created' | 'unchanged' | 'updated' | 'overwritten' | 'skipped' | 'removed';

export interface InstalledFile {
  /** Relative to the target directory, `/`-separated. */
  path: string;
  status: InstallStatus;
  /** For skipped and overwritten files: from the installed file to the shipped one. */
  diff?: string;
}

/** The permission rules written into a Claude Code settings file. */
export interface InstalledPermissions {
  /** Absolute path of the settings file. */
  path: string;
  status: 'created' | 'updated' | 'unchanged';
  /** The rules orch added (the ones already there, allowed, denied or asked for, are left as they are). */
  added: string[];
  /** From the file as it was to the file as written, when it changed. */
  diff?: string;
}

export interface InstallResult {
  scope: InstallScope;
  target: string;
  files: InstalledFile[];
  /** Absent with `--permissions none`. */
  permissions?: InstalledPermissions;
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

/**
 * Copies the user-facing agent definitions and the skill into a Claude Code config directory, and
 * merges the permission rules they need into its settings. The settings are read and checked first,
 * so a file orch cannot merge into stops the install before anything is written.
 */
export async function installClaudeFiles(opts: InstallOptions): Promise<InstallResult> {
  const target = claudeDir(opts.scope, opts.env, opts.cwd);
  const settings = await planPermissions(opts, target);
  const files = opts.files === false ? [] : await copyShipped(opts, target);
  if (settings === null) return { scope: opts.scope, target, files };
  if (settings.write !== null) await writeAtomic(settings.permissions.path, settings.write);
  return { scope: opts.scope, target, files, permissions: settings.permissions };
}

/** Copies the shipped files that changed, keeping local edits unless forced; returns what happened to each. */
async function copyShipped(opts: InstallOptions, target: string): Promise<InstalledFile[]> {
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
  files.push(...(await removeRetired(target, record)));
  const nextRecord = `${JSON.stringify({ files: record }, null, 2)}\n`;
  if (nextRecord !== recordText) await writeAtomic(recordPath, nextRecord);
  return files;
}

/**
 * Earlier versions installed the engine-only agents as ordinary subagents; orch removes the copies
 * it wrote and nobody edited (an edited copy is the user's own now and stays).
 */
async function removeRetired(target: string, record: Record<string, string>): Promise<InstalledFile[]> {
  const removed: InstalledFile[] = [];
  for (const role of ENGINE_ROLES) {
    const rel = `agents/${role}.md`;
    const current = await readOrNull(join(target, rel));
    if (current !== null && record[rel] === sha256(current)) {
      await rm(join(target, rel), { force: true });
      removed.push({ path: rel, status: 'removed' });
    }
    delete record[rel];
  }
  return removed;
}

/** The settings file's next text (null: leave it) and what the install reports about it. */
async function planPermissions(
  opts: InstallOptions,
  target: string,
): Promise<{ permissions: InstalledPermissions; write: string | null } | null> {
  const where = opts.permissions ?? 'settings';
  if (where === 'none') return null;
  if (where === 'local' && opts.scope === 'user') {
    throw new OrchError('ERR_ORCH_USAGE', '--permissions local applies to a project, not to ~/.claude', {
      hint: 'Use `orch install --scope project --permissions local`, or `--permissions settings` for your user settings.',
      exitCode: ExitCode.Usage,
    });
  }
  const path = join(target, where === 'local' ? 'settings.local.json' : 'settings.json');
  const mcpJson = await readOrNull(resolve(opts.cwd ?? process.cwd(), '.mcp.json'));
  const rules = orchPermissionRules({ mcp: mcpJson !== null && registersOrchMcp(mcpJson) });
  const current = await readOrNull(path);
  const merged = mergeAllowRules(current, rules, path);
  const name = where === 'local' ? 'settings.local.json' : 'settings.json';
  if (merged.text === current) {
    return { permissions: { path, status: 'unchanged', added: [] }, write: null };
  }
  const diff = unifiedDiff(current ?? '', merged.text, {
    fromLabel: current === null ? '/dev/null' : `${name} (before)`,
    toLabel: `${name} (orch)`,
  });
  return {
    permissions: { path, status: current === null ? 'created' : 'updated', added: merged.added, diff },
    write: merged.text,
  };
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
