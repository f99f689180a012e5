/** `orch config`: the effective configuration, value by value, with where each came from. */
import { CONFIG_FILES, ExitCode, explainConfig, terminalSafeLine } from '@orch/core';
import { nearestCheckoutRoot } from '@orch/store';
import { isAbsolute, resolve } from 'node:path';
import type { CommandIO, CommandResult } from '../../define.js';
import { paint } from '../../output.js';

/**
 * `--config` as given (it is echoed as the source) when it names a file from this process's folder;
 * else resolved from the command's own folder (core resolves a relative one from the process's).
 */
function configArg(given: string | undefined, cwd: string): string | undefined {
  if (given === undefined || isAbsolute(given) || resolve(cwd) === process.cwd()) return given;
  return resolve(cwd, given);
}

export async function runConfigCommand(
  opts: { config?: string | undefined; json: boolean },
  io: CommandIO,
): Promise<CommandResult> {
  const repoRoot = nearestCheckoutRoot(io.cwd);
  const r = await explainConfig(repoRoot, configArg(opts.config, io.cwd));
  if (opts.json) {
    return {
      exitCode: ExitCode.Ok,
      json: { source: r.source ?? null, searched: CONFIG_FILES, values: r.values, warnings: r.warnings },
    };
  }
  const width = Math.max(...r.values.map((v) => v.key.length));
  return {
    exitCode: ExitCode.Ok,
    notes: r.warnings.map((w) => `warning: ${w}`),
    lines: [
      r.source
        ? `config: ${r.source}`
        : `config: defaults (no ${CONFIG_FILES.join(', ')} at ${repoRoot}; orch init writes one)`,
      ...r.values.map((v) => {
        // Values come from the file as written; keep control characters off the terminal.
        const value = terminalSafeLine(JSON.stringify(v.value));
        return `  ${v.key.padEnd(width)}  ${value}  ${paint('dim', `(${v.from})`, io.stdout)}`;
      }),
    ],
  };
}
