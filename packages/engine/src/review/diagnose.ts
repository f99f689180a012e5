/**
 * The verifier agent's diagnosis of a failed verification (roles/verifier.md): a short,
 * categorized, actionable text for the retry prompt. Best effort by design: any problem (no claude
 * workers in the run, claude missing, an error, a slow answer) yields undefined and the retry goes on
 * with the plain report.
 */
import { existsSync } from 'node:fs';
import { requireState, type RunContext } from '../run/context.js';
import { findTask } from '../worker/launch.js';
import { runHeadless } from './headless.js';

const DIAGNOSIS_TIMEOUT_MS = 120_000;
const MAX_REPORT_CHARS = 40_000;
const MAX_LINES = 60;
const MAX_CHARS = 6_000;

export async function diagnoseFailure(
  ctx: RunContext,
  taskId: string,
  reportJson: string,
): Promise<string | undefined> {
  try {
    const state = requireState(ctx);
    if (!Object.values(state.tasks).some((t) => t.agent === 'claude')) return undefined;
    const task = findTask(ctx, taskId);
    const t = state.tasks[taskId];
    const cwd = t?.worktree && existsSync(t.worktree) ? t.worktree : ctx.repoRoot;
    const report =
      reportJson.length > MAX_REPORT_CHARS
        ? `${reportJson.slice(0, MAX_REPORT_CHARS)}\n[... report shortened; ${reportJson.length - MAX_REPORT_CHARS} more characters]`
        : reportJson;
    const prompt = [
      `# Failed verification of task \`${taskId}\` (attempt ${t?.attempt ?? 1})`,
      `## The task\n${task.description || '(no description)'}\n\nFiles it may write: ${task.files_write.join(', ') || '(none)'}`,
      `## The verification report\n\`\`\`json\n${report.trimEnd()}\n\`\`\``,
      "Your working directory is the task's worktree. Write the diagnosis in the format of your instructions.",
      '',
    ].join('\n\n');
    const r = await runHeadless(ctx, {
      role: 'verifier',
      name: `diagnose-${taskId}-${t?.attempt ?? 1}`,
      prompt,
      cwd,
      timeoutMs: DIAGNOSIS_TIMEOUT_MS,
    });
    if (!r.ok) return undefined;
    const text = r.text.trim().split('\n').slice(0, MAX_LINES).join('\n').slice(0, MAX_CHARS).trim();
    return text === '' ? undefined : text;
  } catch {
    return undefined;
  }
}
