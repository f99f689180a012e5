/**
 * The prompt a worker receives. Pure: everything it says comes from its inputs, so the same task
 * and attempt always get the same text (and tests can read it).
 */
import type { Plan, Task } from '@orch/core';

export interface PromptInput {
  run: string;
  task: Task;
  plan: Plan;
  attempt: number;
  /** Contract file contents by path (the contracts this task uses or owns). */
  contracts: { path: string; name: string; version: string; text: string }[];
  /** Markdown of the shared context relevant to this task (may be empty). */
  context: string;
  /** Unread mailbox messages, rendered. */
  messages: string[];
  /** Why the previous attempt failed (verification diagnosis, merge conflict, integration output). */
  retry?: { category: string; reason: string; report?: string };
  /** The agent's own rule for committing and reporting, when it cannot use git and `orch task`. */
  agentNote?: string;
  /** Set when the worker was interrupted and is started again in the same worktree. */
  interrupted?: { progress: string[] };
}

const bullet = (xs: string[]): string =>
  xs.length === 0 ? '- (none)' : xs.map((x) => `- \`${x}\``).join('\n');

export function buildWorkerPrompt(p: PromptInput): string {
  const t = p.task;
  const out: string[] = [];
  out.push(`# Task \`${t.id}\` (run ${p.run}, attempt ${p.attempt})`);
  if (p.plan.request) out.push(`Overall request: ${p.plan.request}`);
  out.push(`## What to do\n${t.description || '(no description)'}`);
  if (p.interrupted) {
    out.push(
      '## You were interrupted\nA previous worker on this task stopped before finishing. Its commits are in this ' +
        'worktree: run `git log --oneline` and `git status`, keep what is good, and continue from there.' +
        (p.interrupted.progress.length > 0
          ? `\nIts last progress messages:\n${p.interrupted.progress.map((m) => `- ${m}`).join('\n')}`
          : ''),
    );
  }
  if (p.retry) {
    out.push(
      `## This is a retry\nThe previous attempt was rejected (${p.retry.category}): ${p.retry.reason}` +
        (p.retry.report ? `\n\n${p.retry.report.trim()}` : '') +
        '\nFix exactly this. Your earlier commits are still in this worktree (`git log --oneline`), and verification checks the net change since your base, so fix-up commits on top are fine.',
    );
  }
  out.push(
    `## Files you may change\nOnly these (globs allowed); a change to any other path fails verification:\n${bullet(t.files_write)}` +
      (t.files_append.length > 0 ? `\nYou may append to (not rewrite):\n${bullet(t.files_append)}` : ''),
  );
  if (t.files_read.length > 0) out.push(`## Files to read first\n${bullet(t.files_read)}`);
  for (const c of p.contracts) {
    out.push(
      `## Contract ${c.name} (version ${c.version}, \`${c.path}\`)\n\`\`\`\n${c.text.trimEnd()}\n\`\`\``,
    );
  }
  if (p.context.trim()) out.push(p.context.trim());
  if (p.messages.length > 0) out.push(`## Unread messages\n${p.messages.join('\n')}`);
  const checks = t.verification.map((v) => `- \`${v.command}\` (${v.type}${v.required ? '' : ', optional'})`);
  out.push(
    `## Before you report done\nRun every verification command and read its output:\n${checks.join('\n')}`,
  );
  if (p.agentNote) {
    out.push(
      `## How to work and report\n- ${p.agentNote}\n- Stay inside the files you may change; run the checks above before you finish.`,
    );
    return `${out.join('\n\n')}\n`;
  }
  out.push(
    [
      '## How to work and report',
      '- Commit your work in this worktree: `git add -A && git commit -m "<what>"` (never push, never switch branches).',
      '- Report milestones: `orch task progress "<short message>"`.',
      '- When finished and verified: `orch task done --summary "<what you did>"` (or just exit once your work is committed).',
      '- If you cannot finish: `orch task fail --reason "<why>"`.',
      '- If you need a new package, do not install it: `orch task block --needs "<package>" --reason "<why>"`.',
      '- Messages from other workers: `orch mailbox check`; tell others about an interface change with',
      '  `orch mailbox send <task> "<what changed>" --type interface-changed --target <file>`.',
    ].join('\n'),
  );
  return `${out.join('\n\n')}\n`;
}
