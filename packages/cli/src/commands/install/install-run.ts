import { ExitCode } from '@orch/core';
import { paint, printError, printJson, println } from '../../output.js';
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

/** `orch install`: returns the exit code. */
export async function runInstall(opts: {
  scope: InstallScope;
  force: boolean;
  json: boolean;
  permissions: PermissionsTarget;
  files: boolean;
}): Promise<ExitCode> {
  const result = await installClaudeFiles({
    scope: opts.scope,
    force: opts.force,
    permissions: opts.permissions,
    files: opts.files,
  });
  const err = skippedError(result);
  if (opts.json) {
    printJson({ ...result, ok: err === null });
    return err ? ExitCode.Failed : ExitCode.Ok;
  }
  if (opts.files) println(`orch agents and skill → ${result.target}`);
  for (const f of result.files) {
    println(`  ${paint(colors[f.status], f.status.padEnd(11))} ${f.path}`);
    if (f.diff) println(f.diff.replace(/^/gm, '      ').trimEnd());
  }
  const p = result.permissions;
  if (p) {
    const what = p.added.length > 0 ? `allow ${p.added.join(', ')}` : 'the rules orch needs are there';
    println(`permissions → ${p.path}: ${p.status} (${what})`);
    if (p.diff) println(p.diff.replace(/^/gm, '      ').trimEnd());
  }
  if (err) {
    printError(err, false);
    return ExitCode.Failed;
  }
  return ExitCode.Ok;
}
