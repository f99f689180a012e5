import { ExitCode } from '@orch/core';
import { runDoctor, type CheckStatus } from '@orch/engine';
import type { CommandIO, CommandResult } from '../../define.js';
import { paint } from '../../output.js';

/** `orch doctor`: the checks of this environment, as lines or JSON. */
export async function runDoctorCommand(opts: { json: boolean }, io: CommandIO): Promise<CommandResult> {
  const report = await runDoctor({ cwd: io.cwd, env: { ...io.env } });
  const exitCode = report.ok ? ExitCode.Ok : ExitCode.Failed;
  if (opts.json) return { exitCode, json: report };
  const out = io.stdout;
  const marks: Record<CheckStatus, string> = {
    ok: paint('green', 'ok  ', out),
    warn: paint('yellow', 'warn', out),
    fail: paint('red', 'FAIL', out),
  };
  const width = Math.max(...report.checks.map((c) => c.name.length));
  const lines: string[] = [];
  for (const c of report.checks) {
    lines.push(`${marks[c.status]}  ${c.name.padEnd(width)}  ${c.detail}`);
    if (c.hint && c.status !== 'ok') lines.push(`      ${' '.repeat(width)}  ${paint('dim', c.hint, out)}`);
  }
  const failed = report.checks.filter((c) => c.required && c.status === 'fail').length;
  const warned = report.checks.filter((c) => c.status === 'warn').length;
  lines.push(
    '',
    failed > 0
      ? paint('red', `${failed} required check(s) failed`, out)
      : paint('green', `ready (${warned} warning(s))`, out),
  );
  return { exitCode, lines };
}
