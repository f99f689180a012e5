import { ExitCode } from '@orch/core';
import { paint, printJson, println } from '../../output.js';
import { runDoctor, type CheckStatus } from '@orch/engine';

const marks: Record<CheckStatus, string> = {
  ok: paint('green', 'ok  '),
  warn: paint('yellow', 'warn'),
  fail: paint('red', 'FAIL'),
};

/** `orch doctor`: returns the exit code. */
export async function runDoctorCommand(opts: { json: boolean }): Promise<ExitCode> {
  const report = await runDoctor();
  const code = report.ok ? ExitCode.Ok : ExitCode.Failed;
  if (opts.json) {
    printJson(report);
    return code;
  }
  const width = Math.max(...report.checks.map((c) => c.name.length));
  for (const c of report.checks) {
    println(`${marks[c.status]}  ${c.name.padEnd(width)}  ${c.detail}`);
    if (c.hint && c.status !== 'ok') println(`      ${' '.repeat(width)}  ${paint('dim', c.hint)}`);
  }
  const failed = report.checks.filter((c) => c.required && c.status === 'fail').length;
  const warned = report.checks.filter((c) => c.status === 'warn').length;
  println();
  println(
    failed > 0
      ? paint('red', `${failed} required check(s) failed`)
      : paint('green', `ready (${warned} warning(s))`),
  );
  return code;
}
