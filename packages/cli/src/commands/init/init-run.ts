/** `orch init`: the engine writes the files; this prints what was written and what comes next. */
import { join } from 'node:path';
import { ExitCode } from '@orch/core';
import { initRepository } from '@orch/engine';
import { nearestCheckoutRoot } from '@orch/store';
import type { CommandIO, CommandResult } from '../../define.js';
import { paint } from '../../output.js';
import { VERSION } from '../../version.js';

export async function runInitCommand(opts: { json: boolean }, io: CommandIO): Promise<CommandResult> {
  const repoRoot = nearestCheckoutRoot(io.cwd);
  const r = await initRepository(repoRoot, { version: VERSION });
  if (opts.json) {
    return {
      exitCode: ExitCode.Ok,
      json: { ok: true, repoRoot, files: r.files.map((f) => join(repoRoot, f)), detected: r.detected },
    };
  }
  const found = [
    r.detected.packageManager ? `package manager ${r.detected.packageManager}` : undefined,
    r.detected.test
      ? `test command \`${r.detected.test}\``
      : 'no test command (set verification.integration_command)',
  ].filter(Boolean);
  return {
    exitCode: ExitCode.Ok,
    lines: [
      ...r.files.map((f) => `${paint('green', '✓', io.stdout)} wrote ${f}`),
      `Detected: ${found.join(', ')}.`,
      'Next: edit tasks.yaml (or `orch plan "what you want done"`), then `orch plan check` and `orch run`.',
    ],
  };
}
