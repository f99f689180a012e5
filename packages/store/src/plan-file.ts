/** Reads the task list of a plan file for context selection (no full validation: that is `plan check`). */
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { OrchError } from '@orch/core';
import type { ContextTask } from './context.js';

export async function readPlanTasks(path: string): Promise<{ tasks: ContextTask[] }> {
  let doc: unknown;
  try {
    doc = parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new OrchError('ERR_ORCH_PLAN_UNREADABLE', `cannot read the plan ${path}`, {
      hint: 'Check the path, or run `orch plan check` to see what is wrong with it.',
      cause: e,
    });
  }
  const tasks = (doc as { tasks?: unknown } | null)?.tasks;
  if (!Array.isArray(tasks)) {
    throw new OrchError('ERR_ORCH_PLAN_UNREADABLE', `${path} has no task list`, {
      hint: 'Run `orch plan check`.',
    });
  }
  const strs = (v: unknown): string[] =>
    Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  return {
    tasks: tasks
      .filter(
        (t): t is Record<string, unknown> => typeof t === 'object' && t !== null && typeof t.id === 'string',
      )
      .map((t) => ({
        id: t.id as string,
        description: typeof t.description === 'string' ? t.description : '',
        files_write: strs(t.files_write),
        files_read: strs(t.files_read),
        context_keys: strs(t.context_keys),
      })),
  };
}
