/**
 * Final integration on the staging tip: the full test suite (required), then type check, lint and
 * a dependency audit when the project has them. A test, type check or lint command that passed on
 * the same tree already (journaled `check.passed`: the last incremental check of the merge queue,
 * usually) is not run again; the report says where it passed. Results go to `integration.json`
 * and a Markdown summary in the run directory.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '@orch/store';
import type { RunContext } from '../run/context.js';
import { runCheck, type CheckResult } from './check.js';
import { detectCommands } from './detect.js';
import { passedOn, recordPass, skippedBecause } from './ledger.js';
import { integrationWorktree } from './worktree.js';

export interface IntegrationCheck extends CheckResult {
  name: 'test' | 'typecheck' | 'lint' | 'audit';
  blocking: boolean;
  findings?: Record<string, number>;
  /** Not run: why ("skipped: passed on tree X at merge of Y"); its log is that earlier run's. */
  skipped?: string;
}

export interface IntegrationReport {
  ok: boolean;
  commit: string;
  checks: IntegrationCheck[];
  summary: string;
  reportPath: string;
}

/** Severity counts from `npm audit --json` / `pnpm audit --json`; undefined when not parseable. */
export function auditFindings(output: string): Record<string, number> | undefined {
  try {
    const start = output.indexOf('{');
    if (start < 0) return undefined;
    const j = JSON.parse(output.slice(start)) as { metadata?: { vulnerabilities?: Record<string, number> } };
    return j.metadata?.vulnerabilities;
  } catch {
    return undefined;
  }
}

export async function runFinalIntegration(ctx: RunContext, commit: string): Promise<IntegrationReport> {
  const dir = await integrationWorktree(ctx, commit);
  const tree = await ctx.repository.revParse(`${commit}^{tree}`);
  const detected = await detectCommands(dir);
  const v = ctx.config.verification;
  const timeout = v.timeout;
  const logs = join(ctx.paths.logs, 'integration');
  const checks: IntegrationCheck[] = [];
  /** Runs `command` unless it passed on this tree before; a pass is journaled for the next one. */
  const check = async (command: string, log: string): Promise<CheckResult & { skipped?: string }> => {
    const pass = passedOn(ctx.journal.state, tree, command);
    if (pass) {
      const skipped = skippedBecause(pass, tree);
      return {
        command,
        ok: true,
        exitCode: 0,
        timedOut: false,
        durationMs: 0,
        logPath: pass.logPath ?? '',
        tail: skipped,
        skipped,
      };
    }
    const r = await runCheck(command, dir, join(logs, log), timeout);
    if (r.ok)
      await recordPass(ctx.journal, 'integration', [], {
        command,
        tree,
        commit,
        logPath: r.logPath,
        durationMs: r.durationMs,
      });
    return r;
  };
  const test = v.integration_command ?? detected.test;
  if (test) checks.push({ ...(await check(test, 'test.log')), name: 'test', blocking: true });
  const typecheck = v.typecheck_command ?? detected.typecheck;
  if (typecheck) {
    const r = await check(typecheck, 'typecheck.log');
    checks.push({ ...r, name: 'typecheck', blocking: v.typecheck_command !== undefined });
  }
  const lint = v.lint_command ?? detected.lint;
  if (lint) {
    const r = await check(lint, 'lint.log');
    checks.push({ ...r, name: 'lint', blocking: v.lint_command !== undefined });
  }
  // The audit is never skipped: its verdict follows the advisories of the day, not only the tree.
  if (v.audit && detected.audit) {
    const r = await runCheck(detected.audit, dir, join(logs, 'audit.log'), timeout);
    // The whole report, not the tail: audit JSON runs to many lines.
    const findings = auditFindings(await readFile(r.logPath, 'utf8').catch(() => ''));
    const blocked = findings ? v.audit_blocking_levels.some((lvl) => (findings[lvl] ?? 0) > 0) : false;
    // An audit that could not run (offline, tool missing) is reported, not blocking.
    checks.push({
      ...r,
      ok: findings ? !blocked : r.ok,
      name: 'audit',
      blocking: blocked,
      ...(findings ? { findings } : {}),
    });
  }
  const failing = checks.filter((c) => c.blocking && !c.ok);
  const ok = failing.length === 0;
  const summary = ok
    ? checks.length === 0
      ? 'no test, type check, lint or audit command found; nothing to run'
      : `passed: ${checks.map((c) => `${c.name}${c.skipped ? ` (${c.skipped})` : c.ok ? '' : ' (failed, not blocking)'}`).join(', ')}`
    : `failed: ${failing.map((c) => `${c.name} (\`${c.command}\`${c.timedOut ? ', timed out' : ''})`).join(', ')}`;
  const reportPath = join(ctx.paths.dir, 'integration.json');
  await writeJsonAtomic(reportPath, { ok, commit, summary, checks });
  const md = [
    `# Integration of ${commit.slice(0, 12)}`,
    '',
    summary,
    '',
    ...checks.flatMap((c) => [
      `## ${c.name}: ${c.ok ? 'passed' : 'FAILED'}${c.blocking ? '' : ' (not blocking)'}`,
      '',
      ...(c.skipped
        ? [`\`${c.command}\` ${c.skipped}${c.logPath ? `, log: ${c.logPath}` : ''}`, '']
        : [
            `\`${c.command}\` exit ${c.exitCode ?? 'none'}${c.timedOut ? ' (timed out)' : ''}, ${c.durationMs} ms, log: ${c.logPath}`,
            '',
            '```',
            c.tail,
            '```',
            '',
          ]),
    ]),
  ].join('\n');
  await writeFileAtomic(join(ctx.paths.dir, 'integration.md'), md);
  return { ok, commit, checks, summary, reportPath };
}
