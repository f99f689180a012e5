/**
 * Where orch keeps its files. Everything lives under `<repo root>/.orchestrator/`, and the root is
 * the main worktree's, found through git's common dir: a worker inside `.worktrees/<task>` reads and
 * writes the same journal, mailbox and context as the supervisor (see `repo-root.ts`).
 */
import { join } from 'node:path';

export interface OrchPaths {
  orchDir: string;
  runsDir: string;
  currentFile: string;
  contextDir: string;
  locksDir: string;
}

export function orchPaths(repoRoot: string): OrchPaths {
  const orchDir = join(repoRoot, '.orchestrator');
  return {
    orchDir,
    runsDir: join(orchDir, 'runs'),
    currentFile: join(orchDir, 'current'),
    contextDir: join(orchDir, 'context'),
    locksDir: join(orchDir, 'locks'),
  };
}

export interface RunPaths {
  dir: string;
  events: string;
  plan: string;
  prompts: string;
  logs: string;
  verify: string;
  mailbox: string;
  reports: string;
  supervisorLock: string;
  /** The run's HMAC key (0600): signs journal lines and derives workers' tokens. Never in a task channel. */
  key: string;
  /** One channel directory per task (see `taskChannelPaths`). */
  tasks: string;
  /** Reports the user's own `orch task …` commands hand to a live supervisor. */
  userOutbox: string;
}

export function runPaths(repoRoot: string, runId: string): RunPaths {
  return runDirPaths(join(orchPaths(repoRoot).runsDir, runId));
}

/** The same paths, from a run directory. */
export function runDirPaths(dir: string): RunPaths {
  return {
    dir,
    events: join(dir, 'events.jsonl'),
    plan: join(dir, 'plan.yaml'),
    prompts: join(dir, 'prompts'),
    logs: join(dir, 'logs'),
    verify: join(dir, 'verify'),
    mailbox: join(dir, 'mailbox'),
    reports: join(dir, 'reports'),
    supervisorLock: join(dir, 'supervisor.lock'),
    key: join(dir, 'journal.key'),
    tasks: join(dir, 'tasks'),
    userOutbox: join(dir, 'user-outbox'),
  };
}

/** A Maildir-style drop directory: items are written to `tmp/` and renamed into `new/`. */
export interface DropPaths {
  dir: string;
  tmp: string;
  new: string;
  /** The supervisor's answer to an item that asked for one (`<id>.json`). */
  ack: string;
}

export function dropPaths(dir: string): DropPaths {
  return { dir, tmp: join(dir, 'tmp'), new: join(dir, 'new'), ack: join(dir, 'ack') };
}

/**
 * A task's channel, `<runDir>/tasks/<task>/`: the only part of `.orchestrator/` a worker needs (an
 * OS sandbox hides the rest). Its exec spec and prompt per attempt, its outbox (worker → supervisor:
 * reports, usage, exit, mail) and its mailbox inbox (supervisor → worker).
 */
export interface TaskChannelPaths {
  dir: string;
  outbox: DropPaths;
  /** The task's mailbox inbox (`new/` and `cur/`). */
  inbox: string;
  spec(attempt: number): string;
  prompt(attempt: number): string;
}

export function taskChannelPaths(runDir: string, task: string): TaskChannelPaths {
  const dir = join(runDirPaths(runDir).tasks, task);
  return {
    dir,
    outbox: dropPaths(join(dir, 'outbox')),
    inbox: join(dir, 'inbox'),
    spec: (attempt) => join(dir, `exec-${attempt}.json`),
    prompt: (attempt) => join(dir, `prompt-${attempt}.md`),
  };
}
