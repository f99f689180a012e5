/**
 * What crosses from the supervisor to a host for one task attempt: a BullMQ job's data, all plain
 * data. A host validates it before acting on it (anyone with the store's password can add jobs).
 */
import { Config } from '@orch/core';
import { assertSafeName } from '@orch/store';
import { z } from 'zod';

/** The one queue every host serves. */
export const ATTEMPT_QUEUE = 'attempts';

/** A name the store accepts as one path component (`assertSafeName`). */
const name = z.string().refine(
  (s) => {
    try {
      assertSafeName(s, 'name');
      return true;
    } catch {
      return false;
    }
  },
  { message: 'not a safe name' },
);
const commit = z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, 'a full commit hash');
const branch = z
  .string()
  .min(1)
  .max(250)
  .regex(/^[A-Za-z0-9._/-]+$/)
  .refine((s) => !s.startsWith('/') && !s.startsWith('-') && !s.includes('..') && !s.includes('//'), {
    message: 'not a safe branch name',
  });

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/);

/**
 * An orch attempt as plain data (the engine's `AttemptInputs`): the host makes the attempt's files
 * and argv from it with its own paths (`writeAttemptFiles`). The token, the attempt's secret, never
 * crosses in clear: `sealed` holds it sealed to each host the run trusts (`sealFor`, bound to the
 * run, task, attempt and host), and a host opens only its own box (see docs/scale-out.md).
 */
export const AttemptExec = z.strictObject({
  run: name,
  task: name,
  attempt: z.number().int().positive(),
  agent: name,
  model: z.string().min(1).max(200).optional(),
  prompt: z.string().max(4_000_000),
  script: z.string().max(1_000_000).optional(),
  /** The token sealed to each trusted host, by host name. */
  sealed: z.record(name, z.string().max(1_000)).refine((m) => Object.keys(m).length > 0, {
    message: 'the token is sealed to no host',
  }),
  env: z.record(envName, z.string()),
  /**
   * The supervisor's machine's sandbox decision does not hold on a host: it sends false (a host
   * refuses true) and the host decides from the run's `workers.sandbox` with its own probe.
   */
  sandbox: z.literal(false),
});
export type AttemptExec = z.infer<typeof AttemptExec>;

/** What a token opened from its box must look like (the engine's `taskToken`: hex). */
export const ATTEMPT_TOKEN = /^[0-9a-f]{32,128}$/;

export const AttemptJob = z
  .object({
    run: name,
    task: name,
    attempt: z.number().int().positive(),
    /** The worker's name (its tmux session on the host). */
    worker: name,
    /** The branch on the remote the base commit is on (staging), and the commit the task starts from. */
    baseRef: branch,
    base: commit,
    /** The task branch the host pushes (`orch/<run>/<task>/work`). */
    branch,
    /** A plain program to run (no orch attempt: no channel, no token); `exec` when it is one. */
    argv: z.array(z.string()).default([]),
    env: z.record(envName, z.string()),
    /** An orch attempt, made into files and argv on the host. */
    exec: AttemptExec.optional(),
    /** The run's configuration the attempt's agent command is built with (with `exec`). */
    config: Config.optional(),
    /** Longest remaining path of the task when it was queued (BullMQ's priority is derived from it). */
    longestPath: z.number().int().nonnegative(),
    /** The host stops the worker after this long. */
    timeoutMs: z.number().int().positive(),
  })
  .refine(
    (j) => (j.exec === undefined ? j.argv.length > 0 : j.exec.run === j.run && j.exec.task === j.task),
    {
      message: 'a job runs either an argv or an attempt of its own run and task',
    },
  )
  .refine((j) => j.exec === undefined || j.exec.attempt === j.attempt, {
    message: 'the attempt numbers differ',
  });
export type AttemptJob = z.infer<typeof AttemptJob>;

/** What a host reports when the attempt ended. */
export interface AttemptResult {
  host: string;
  exitStatus: number | null;
  head?: string;
  error?: string;
  canceled?: boolean;
  /** The agent's API asked to slow down (what the attempt's wrapper reported). */
  rateLimit?: { resetAt?: string };
}

/** BullMQ runs the lowest priority number first; a longer remaining path must run sooner. */
export const MAX_PRIORITY = 2_097_152;
export function bullPriority(longestPath: number): number {
  return Math.max(1, MAX_PRIORITY - Math.max(0, Math.floor(longestPath)));
}
