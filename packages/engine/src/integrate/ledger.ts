/**
 * Checks run once per tree: a check command that passed is journaled with the tree it ran on
 * (`check.passed`), and the same command is not run again on that tree, whoever asks (the merge
 * queue, the final integration, a re-verification of an identical commit). The tree, not the
 * commit, is the key: the checks read files, and a landing commit with the verified tree holds
 * exactly the files that were checked. Only passes are kept: a failure may be a flaky one.
 */
import type { PassedCheck, RunState } from '@orch/core';
import type { RunLog } from '../ports/run-log.js';

/** Where `command` passed on `tree` before, if it did. */
export function passedOn(
  state: RunState | undefined,
  tree: string,
  command: string,
): PassedCheck | undefined {
  return state?.checksPassed?.[tree]?.[command];
}

/** Why a check was not run: "skipped: passed on tree X at merge of Y". */
export function skippedBecause(pass: PassedCheck, tree: string): string {
  const names = pass.tasks.join(', ');
  const where =
    pass.by === 'verification'
      ? `verification of ${names}`
      : pass.by === 'merge'
        ? `merge of ${names}`
        : 'final integration';
  return `skipped: passed on tree ${tree.slice(0, 12)} at ${where}`;
}

/** A passed check, as the one who ran it knows it. */
export interface CheckPass {
  command: string;
  tree: string;
  commit: string;
  logPath?: string;
  durationMs?: number;
}

/** The journal's record of passed checks, as verification needs it (it has no run context). */
export interface CheckLedger {
  passed(tree: string, command: string): PassedCheck | undefined;
  record(pass: CheckPass): Promise<void>;
}

export function checkLedger(journal: RunLog, by: PassedCheck['by'], tasks: readonly string[]): CheckLedger {
  return {
    passed: (tree, command) => passedOn(journal.state, tree, command),
    record: (pass) => recordPass(journal, by, tasks, pass),
  };
}

export async function recordPass(
  journal: RunLog,
  by: PassedCheck['by'],
  tasks: readonly string[],
  pass: CheckPass,
): Promise<void> {
  if (passedOn(journal.state, pass.tree, pass.command)) return;
  await journal.append({
    type: 'check.passed',
    command: pass.command,
    tree: pass.tree,
    commit: pass.commit,
    by,
    tasks: [...tasks],
    ...(pass.logPath !== undefined ? { logPath: pass.logPath } : {}),
    ...(pass.durationMs !== undefined ? { durationMs: pass.durationMs } : {}),
  });
}
