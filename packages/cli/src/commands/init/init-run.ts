/** `orch init`: the engine writes the files; this prints what was written and what comes next. */
import { join } from 'node:path';
import { ExitCode } from '@orch/core';
import { initRepository } from '@orch/engine';
import { nearestCheckoutRoot } from '@orch/store';
import { paint, printJson, println } from '../../output.js';
import { VERSION } from '../../version.js';

export async function runInitCommand(opts: { json: boolean }): Promise<ExitCode> {
  const repoRoot = nearestCheckoutRoot(process.cwd());
  const r = await initRepository(repoRoot, { version: VERSION });
  if (opts.json) {
    printJson({ ok: true, repoRoot, files: r.files.map((f) => join(repoRoot, f)), detected: r.detected });
    return ExitCode.Ok;
  }
  for (const f of r.files) println(`${paint('green', '✓')} wrote ${f}`);
  const found = [
    r.detected.packageManager ? `package manager ${r.detected.packageManager}` : undefined,
    r.detected.test
      ? `test command \`${r.detected.test}\``
      : 'no test command (set verification.integration_command)',
  ].filter(Boolean);
  println(`Detected: ${found.join(', ')}.`);
  println(
    'Next: edit tasks.yaml (or `orch plan "what you want done"`), then `orch plan check` and `orch run`.',
  );
  return ExitCode.Ok;
}
