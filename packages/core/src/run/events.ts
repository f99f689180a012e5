/**
 * The run journal: every transition of a run is one event, appended as one JSON line to
 * `.orchestrator/runs/<run>/events.jsonl`. The state of a run is derived from its events
 * (see state.ts), never stored separately as the source of truth.
 */
import { z } from 'zod';

export const TaskStatus = z.enum([
  'pending', // waiting for dependencies
  'ready', // dependencies merged, waiting for a worker slot
  'running', // worker session alive
  'verifying',
  'merging',
  'merged',
  'failed', // failed for good (retries exhausted or unrecoverable)
  'blocked', // waiting for a dependency request, a blocked-on task, or a limit reset
  'needs_attention', // a human must decide (needs-decision, escalation)
  'cancelled', // a dependency failed for good
]);
export type TaskStatus = z.infer<typeof TaskStatus>;

export const RunPhase = z.enum([
  'starting',
  'running',
  'integrating',
  'promoting',
  'reviewing',
  'succeeded',
  'failed',
  'needs_attention',
  'aborted',
]);
export type RunPhase = z.infer<typeof RunPhase>;

export const FailureCategory = z.enum([
  'boundary_violation',
  'test_failed',
  'contract_mismatch',
  'env_changed',
  'timeout',
  'merge_conflict',
  'integration_failed',
  'agent_failed', // the agent reported failure or exited without a result
  'interrupted',
]);
export type FailureCategory = z.infer<typeof FailureCategory>;

/** Which signal produced a verdict, and when: every verdict carries its evidence. */
export const EvidenceSource = z.enum([
  'status-command', // orch task done|fail|block
  'agent-result', // the agent's own final result event
  'process-exit', // the worker process exited
  'timeout',
  'idle-timeout',
  'verification',
  'merge',
  'integration',
  'reconcile', // resume derived it from git/tmux
  'supervisor', // orch itself could not go on (an error while driving the task)
  'user',
]);
export type EvidenceSource = z.infer<typeof EvidenceSource>;

export const Evidence = z.object({
  source: EvidenceSource,
  at: z.string(),
  detail: z.string().optional(),
});
export type Evidence = z.infer<typeof Evidence>;

export const Usage = z.object({
  inputTokens: z.number().default(0),
  outputTokens: z.number().default(0),
  cacheReadTokens: z.number().default(0),
  cacheWriteTokens: z.number().default(0),
  /** Tokens in the context window at the last turn. */
  contextTokens: z.number().default(0),
  contextWindow: z.number().default(0),
  costUsd: z.number().default(0),
});
export type Usage = z.infer<typeof Usage>;

/** A usage update: only the figures it carries (zod's `.partial()` would still fill in defaults). */
export const UsagePatch = z.object({
  inputTokens: z.number().optional(),
  outputTokens: z.number().optional(),
  cacheReadTokens: z.number().optional(),
  cacheWriteTokens: z.number().optional(),
  contextTokens: z.number().optional(),
  contextWindow: z.number().optional(),
  costUsd: z.number().optional(),
});
export type UsagePatch = z.infer<typeof UsagePatch>;

const base = {
  ts: z.string(),
  /** The task-channel item this event was made from: a repeat of the item is recognised and dropped. */
  item: z.string().optional(),
};

/** A task as the journal knows it: its place in the graph and who works on it. */
export const PlannedTask = z.object({
  id: z.string(),
  dependsOn: z.array(z.string()),
  agent: z.string(),
  model: z.string().optional(),
  description: z.string().default(''),
});
export type PlannedTask = z.infer<typeof PlannedTask>;
const task = { ...base, task: z.string() };

export const RunEvent = z.discriminatedUnion('type', [
  z.object({
    ...base,
    type: z.literal('run.started'),
    run: z.string(),
    request: z.string(),
    repoRoot: z.string(),
    planPath: z.string(),
    base: z.string(),
    baseCommit: z.string(),
    staging: z.string(),
    stagingCommit: z.string(),
    envHash: z.string(),
    maxWorkers: z.number(),
    detached: z.boolean().default(false),
    /** Leave the result on staging (`orch run --no-promote`); kept so a resume honours it. */
    noPromote: z.boolean().default(false),
    tasks: z.array(PlannedTask),
    /**
     * The configuration the run started with (a distributed run's), signed with the journal, so a
     * supervisor that takes the run over on another machine runs it with the same settings.
     */
    config: z.record(z.string(), z.unknown()).optional(),
    /** A distributed run's git remote, as its first supervisor reached it (a default for a takeover). */
    remote: z.string().optional(),
  }),
  z.object({ ...base, type: z.literal('run.phase'), phase: RunPhase, reason: z.string().optional() }),
  z.object({ ...base, type: z.literal('supervisor.started'), pid: z.number(), host: z.string().optional() }),
  z.object({ ...base, type: z.literal('supervisor.stopped'), pid: z.number(), reason: z.string() }),
  z.object({
    ...base,
    type: z.literal('staging.moved'),
    from: z.string(),
    to: z.string(),
    reason: z.string(),
  }),
  /** Staging's incremental check passed at `commit`: new worktrees start from here. */
  z.object({ ...base, type: z.literal('staging.verified'), commit: z.string() }),
  /**
   * A check command passed on `tree` (run on a checkout of `commit`): the same command is not run
   * again on the same tree (final integration, a re-verified identical commit). `by` says where it
   * ran: a task's verification, the merge queue's incremental check of a batch, the final integration.
   */
  z.object({
    ...base,
    type: z.literal('check.passed'),
    command: z.string(),
    tree: z.string(),
    commit: z.string(),
    by: z.enum(['verification', 'merge', 'integration']),
    /** The tasks it checked (the verified task, or the batch merged). */
    tasks: z.array(z.string()).default([]),
    logPath: z.string().optional(),
    durationMs: z.number().nonnegative().optional(),
  }),
  /**
   * One batch of the merge queue, after it is done: the tasks taken together (priority order),
   * those that landed, the staging tip after it, and how many incremental checks it cost (1 when
   * the whole batch passed; more when a failure was bisected).
   */
  z.object({
    ...base,
    type: z.literal('merge.batch'),
    tasks: z.array(z.string()),
    landed: z.array(z.string()),
    tip: z.string(),
    checks: z.number().int().nonnegative(),
    ok: z.boolean(),
  }),
  z.object({ ...task, type: z.literal('task.ready') }),
  z.object({
    ...task,
    type: z.literal('task.worktree'),
    path: z.string(),
    branch: z.string(),
    baseCommit: z.string(),
  }),
  z.object({
    ...task,
    type: z.literal('task.started'),
    attempt: z.number(),
    session: z.string(),
    agent: z.string(),
    model: z.string().optional(),
    promptPath: z.string(),
    logPath: z.string(),
  }),
  z.object({ ...task, type: z.literal('task.progress'), message: z.string() }),
  /** Usage and activity parsed from the agent's output stream. */
  z.object({
    ...task,
    type: z.literal('task.activity'),
    usage: UsagePatch.optional(),
    activity: z.string().optional(),
  }),
  z.object({
    ...task,
    type: z.literal('task.reported'),
    status: z.enum(['done', 'failed', 'blocked']),
    summary: z.string().optional(),
    reason: z.string().optional(),
    needs: z.string().optional(),
    evidence: Evidence,
  }),
  z.object({
    ...task,
    type: z.literal('task.exited'),
    attempt: z.number().optional(),
    exitCode: z.number().nullable(),
    /** The agent's own final result, when its output stream has one. */
    result: z.object({ ok: z.boolean(), summary: z.string().optional() }).optional(),
    /** The agent stopped on a rate or usage limit (retry after `resetAt`). */
    rateLimit: z.object({ message: z.string(), resetAt: z.string().optional() }).optional(),
    evidence: Evidence,
  }),
  z.object({ ...task, type: z.literal('task.verifying') }),
  z.object({
    ...task,
    type: z.literal('task.verified'),
    ok: z.boolean(),
    categories: z.array(FailureCategory).default([]),
    reportPath: z.string().optional(),
    /** The one commit verified (the worktree's HEAD after leftovers): exactly this is merged. */
    headCommit: z.string().optional(),
    /** Its tree, so the merge can tell the commit it lands is the one that was checked. */
    tree: z.string().optional(),
  }),
  z.object({ ...task, type: z.literal('task.merging') }),
  z.object({
    ...task,
    type: z.literal('task.merged'),
    commit: z.string(),
    stagingBefore: z.string(),
    evidence: Evidence,
  }),
  z.object({
    ...task,
    type: z.literal('task.failed'),
    category: FailureCategory,
    reason: z.string(),
    final: z.boolean(),
    evidence: Evidence,
    reportPath: z.string().optional(),
    /** What went wrong and what to do: the offending paths or the failing command's output tail. */
    report: z.string().optional(),
    /** The same in a few lines (the paths, the end of the output), for one-screen views. */
    detail: z.string().optional(),
  }),
  z.object({
    ...task,
    type: z.literal('task.retry'),
    attempt: z.number(),
    reason: z.string(),
    /** What the next attempt's prompt says about the failure (kept so a resumed run says it too). */
    category: z.string().optional(),
    report: z.string().optional(),
  }),
  z.object({ ...task, type: z.literal('task.cancelled'), reason: z.string() }),
  z.object({
    ...task,
    type: z.literal('task.blocked'),
    reason: z.string(),
    /** A dependency request (a package spec) waiting for `orch deps approve|deny`. */
    needs: z.string().optional(),
    /** A `blocked-on` message: paused until this task is merged. */
    on: z.string().optional(),
    until: z.string().optional(),
  }),
  z.object({ ...task, type: z.literal('task.unblocked'), reason: z.string() }),
  /** A worker asked a person to decide something (a `needs-decision` message). */
  z.object({ ...task, type: z.literal('task.attention'), reason: z.string() }),
  /** The run's environment hash changed (an approved dependency was installed on staging). */
  z.object({ ...base, type: z.literal('env.changed'), hash: z.string(), reason: z.string() }),
  /** A finished (failed or cancelled) task is given a new chance, e.g. when a stopped run is resumed. */
  z.object({ ...task, type: z.literal('task.reset'), reason: z.string() }),
  z.object({
    ...base,
    type: z.literal('integration.finished'),
    ok: z.boolean(),
    commit: z.string(),
    reportPath: z.string().optional(),
    reason: z.string().optional(),
  }),
  z.object({
    ...base,
    type: z.literal('promotion.finished'),
    ok: z.boolean(),
    branch: z.string(),
    from: z.string().optional(),
    to: z.string().optional(),
    reason: z.string().optional(),
    command: z.string().optional(),
  }),
  z.object({
    ...base,
    type: z.literal('review.finished'),
    iteration: z.number(),
    verdict: z.enum(['accept', 'iterate', 'skipped']),
    newTasks: z.array(z.string()).default([]),
    reason: z.string().optional(),
  }),
  /** A review iteration appended tasks to the plan. */
  z.object({
    ...base,
    type: z.literal('tasks.added'),
    reason: z.string(),
    tasks: z.array(PlannedTask),
  }),
  z.object({ ...base, type: z.literal('repair'), what: z.string(), task: z.string().optional() }),
  /**
   * The supervisor's observations of a worker, journaled so that which one wins is decided by the
   * lifecycle table (and survives a resume), not by the order of checks in the supervisor.
   */
  z.object({ ...task, type: z.literal('task.timed_out'), attempt: z.number().int(), timeoutSec: z.number() }),
  z.object({ ...task, type: z.literal('task.idle'), attempt: z.number().int(), idleSec: z.number() }),
  z.object({ ...task, type: z.literal('task.pane_gone'), attempt: z.number().int() }),
  /** The supervisor changed how many workers run at once (rate limit: halve; recovery: +1). */
  z.object({
    ...base,
    type: z.literal('workers.throttled'),
    maxWorkers: z.number().int().positive(),
    reason: z.string(),
    until: z.string().optional(),
  }),
  /**
   * The supervisor refused an item from a task channel (or the user outbox): wrong token, another
   * task, an event type workers may not send, a bad schema or size. `channel` is the directory's
   * task (or `user`); `dropped` counts refusals not journaled since the last one (rate limit).
   */
  z.object({
    ...base,
    type: z.literal('worker.rejected'),
    channel: z.string(),
    reason: z.string(),
    kind: z.string().optional(),
    dropped: z.number().int().nonnegative().default(0),
  }),
  z.object({
    ...base,
    type: z.literal('run.finished'),
    outcome: z.enum(['succeeded', 'failed', 'needs_attention', 'aborted']),
    reason: z.string().optional(),
  }),
  // Distributed runs (docs/scale-out.md).
  /** A worker host took the attempt (its name as it reports it in the store). */
  z.object({ ...task, type: z.literal('task.placed'), attempt: z.number().int(), host: z.string() }),
]);
export type RunEvent = z.infer<typeof RunEvent>;
export type RunEventType = RunEvent['type'];
/** An event as written by code: `ts` is filled in by the journal when missing, defaults by the schema. */
export type RunEventInput =
  z.input<typeof RunEvent> extends infer E
    ? E extends { ts: string }
      ? Omit<E, 'ts'> & { ts?: string }
      : never
    : never;
