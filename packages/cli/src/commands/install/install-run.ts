import { ExitCode } from '@orch/core';
import { paint, printError, printJson, println } from '../../output.js';
import { installClaudeFiles, skippedError, type InstallScope, type InstallStatus } from './install-files.js';

const colors: Record<InstallStatus, 'green' | 'gray' | 'cyan' | 'yellow' | 'magenta'> = {
  created: 'green',
  unchanged: 'gray',
  updated: 'cyan',
  overwritten: 'magenta',
  skipped: 'yellow',
};

/** `orch install`: returns the exit code. */
export async function runInstall(opts: {
  scope: InstallScope;
  force: boolean;
  json: boolean;
}): Promise<ExitCode> {
  const result = await installClaudeFiles({ scope: opts.scope, force: opts.force });
  const err = skippedError(result);
  if (opts.json) {
    printJson({ ...result, ok: err === null });
    return err ? ExitCode.Failed : ExitCode.Ok;
  }
  println(`orch agents and skill → ${result.target}`);
  for (const f of result.files) {
    println(`  ${paint(colors[f.status], f.status.padEnd(11))} ${f.path}`);
    if (f.diff) println(f.diff.replace(/^/gm, '      ').trimEnd());
  }
  if (err) {
    printError(err, false);
    return ExitCode.Failed;
  }
  return ExitCode.Ok;
}
