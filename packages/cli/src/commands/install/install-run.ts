import { ExitCode } from '@orch/core';
import type { CommandIO, CommandResult } from '../../define.js';
import { errorLines, paint } from '../../output.js';
import {
  installClaudeFiles,
  skippedError,
  type InstallScope,
  type InstallStatus,
  type PermissionsTarget,
} from './install-files.js';

const colors: Record<InstallStatus, 'green' | 'gray' | 'cyan' | 'yellow' | 'magenta'> = {
  created: 'green',
  unchanged: 'gray',
  updated: 'cyan',
  overwritten: 'magenta',
  skipped: 'yellow',
  removed: 'magenta',
};

/** `orch install`: what was written (or left alone) where. */
export async function runInstall(
  opts: {
    scope: InstallScope;
    force: boolean;
    json: boolean;
    permissions: PermissionsTarget;
    files: boolean;
  },
  io: CommandIO,
): Promise<CommandResult> {
  const result = await installClaudeFiles({
    scope: opts.scope,
    force: opts.force,
    permissions: opts.permissions,
    files: opts.files,
    cwd: io.cwd,
    env: { ...io.env },
  });
  const err = skippedError(result);
  const exitCode = err ? ExitCode.Failed : ExitCode.Ok;
  if (opts.json) return { exitCode, json: { ...result, ok: err === null } };
  const out = io.stdout;
  const lines: string[] = [];
  if (opts.files) lines.push(`orch agents and skill → ${result.target}`);
  for (const f of result.files) {
    lines.push(`  ${paint(colors[f.status], f.status.padEnd(11), out)} ${f.path}`);
    if (f.diff) lines.push(f.diff.replace(/^/gm, '      ').trimEnd());
  }
  const p = result.permissions;
  if (p) {
    const what = p.added.length > 0 ? `allow ${p.added.join(', ')}` : 'the rules orch needs are there';
    lines.push(`permissions → ${p.path}: ${p.status} (${what})`);
    if (p.diff) lines.push(p.diff.replace(/^/gm, '      ').trimEnd());
  }
  return { exitCode, lines, ...(err ? { notes: errorLines(err, io.stderr) } : {}) };
}
