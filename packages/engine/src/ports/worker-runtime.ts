/**
 * Where worker processes run: today a session each on orch's private tmux server; on a remote host
 * in a distributed run. Everything crosses as plain data: a worker is named, never a pid or a pane,
 * and its output is read through the runtime, so the supervisor needs no access to the host's files.
 */
import type { MailboxMessage } from '@orch/core';

/** What an attempt is, as plain data: all of it may cross to another machine. */
export interface AttemptInputs {
  run: string;
  task: string;
  attempt: number;
  agent: string;
  model?: string;
  /** The worker's prompt, whole. */
  prompt: string;
  /** A shell task's `run` script. */
  script?: string;
  /** The attempt's secret (ORCH_TASK_TOKEN); it ends up in the 0600 spec file only. */
  token: string;
  /** The task's own variables (ORCH_RUN, ORCH_TASK, ...), without any path of the supervisor's. */
  env: Record<string, string>;
  /** Whether the agent runs in the OS sandbox. */
  sandbox: boolean;
}

/** What to start: one attempt's wrapper process. */
export interface WorkerSpec {
  /** The worker's name, unique in the run (the tmux session name). */
  name: string;
  /** The task's workspace, as the runtime's host sees it. */
  cwd: string;
  /** Program and arguments, executed directly (no shell parses them). */
  argv: readonly string[];
  env: Record<string, string>;
  /** Where the runtime keeps everything the worker prints. */
  logFile: string;
  /** The attempt's plain inputs, for a `remote` runtime (which makes the attempt's files where it runs). */
  attempt?: AttemptInputs;
}

/** A started worker, as the supervisor refers to it later (also after a resume). */
export interface WorkerRef {
  name: string;
  logFile?: string;
}

export interface WorkerStatus {
  /** The runtime still knows the worker (a dead pane kept for its exit code counts). */
  exists: boolean;
  /** The process ended. */
  dead: boolean;
  /** Its exit code once dead; null while alive or when a signal ended it. */
  exitStatus: number | null;
  /** Its process id on its host, for people to read (never signalled through the supervisor). */
  pid?: number;
}

export interface WorkerRuntime {
  /** Starts a worker; one of the same name that already ended is replaced. */
  start(spec: WorkerSpec): Promise<void>;
  /** Stops a worker and forgets it; nothing when there is none. */
  kill(name: string): Promise<void>;
  state(name: string): Promise<WorkerStatus>;
  /** Resolves once the worker ended or is gone, or after `timeoutMs` (whichever comes first). */
  waitForExit(name: string, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<void>;
  /** How much the worker has printed so far: a size that grows while it is active. */
  outputSize(ref: WorkerRef): Promise<number>;
  /** The last `lines` lines of its output ('' when there is none). */
  outputTail(ref: WorkerRef, lines: number): Promise<string>;
  /** The runtime's own files a sandboxed worker must not reach (the tmux server's socket folder). */
  hiddenPaths(): readonly string[];
  /**
   * Attempts run on other machines: `start` gets each attempt's plain inputs (`WorkerSpec.attempt`)
   * and the host makes its files and argv there; the supervisor writes none of them.
   */
  readonly remote?: boolean;
  /**
   * A message was just put in the inbox of `task`, whose attempt `attempt` this runtime runs: a
   * runtime whose workers do not read the supervisor's task channels (a host's) hands it on.
   */
  deliverMail?(task: string, attempt: number, msg: MailboxMessage): Promise<void>;
}
