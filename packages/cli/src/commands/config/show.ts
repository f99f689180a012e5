/** `orch config`: the effective configuration, value by value, with where each came from. */
import { CONFIG_FILES, ExitCode, explainConfig, terminalSafeLine } from '@orch/core';
import { nearestCheckoutRoot } from '@orch/store';
import { note, paint, printJson, println } from '../../output.js';

export async function runConfigCommand(opts: { config?: string; json: boolean }): Promise<ExitCode> {
  const repoRoot = nearestCheckoutRoot(process.cwd());
  const r = await explainConfig(repoRoot, opts.config);
  if (opts.json) {
    printJson({ source: r.source ?? null, searched: CONFIG_FILES, values: r.values, warnings: r.warnings });
    return ExitCode.Ok;
  }
  for (const w of r.warnings) note(`warning: ${w}`);
  println(
    r.source
      ? `config: ${r.source}`
      : `config: defaults (no ${CONFIG_FILES.join(', ')} at ${repoRoot}; orch init writes one)`,
  );
  const width = Math.max(...r.values.map((v) => v.key.length));
  for (const v of r.values) {
    // Values come from the file as written; keep control characters off the terminal.
    const value = terminalSafeLine(JSON.stringify(v.value));
    println(`  ${v.key.padEnd(width)}  ${value}  ${paint('dim', `(${v.from})`)}`);
  }
  return ExitCode.Ok;
}
