/**
 * What crosses from the supervisor to a host for one task attempt: a BullMQ job's data, all plain
 * data. A host validates it before acting on it (anyone with the store's password can add jobs).
 */
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

export const AttemptJob = z.object({
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
  argv: z.array(z.string()).min(1),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()),
  /** Longest remaining path of the task when it was queued (BullMQ's priority is derived from it). */
  longestPath: z.number().int().nonnegative(),
  /** The host stops the worker after this long. */
  timeoutMs: z.number().int().positive(),
});
export type AttemptJob = z.infer<typeof AttemptJob>;

/** What a host reports when the attempt ended. */
export interface AttemptResult {
  host: string;
  exitStatus: number | null;
  head?: string;
  error?: string;
  canceled?: boolean;
}

/** BullMQ runs the lowest priority number first; a longer remaining path must run sooner. */
export const MAX_PRIORITY = 2_097_152;
export function bullPriority(longestPath: number): number {
  return Math.max(1, MAX_PRIORITY - Math.max(0, Math.floor(longestPath)));
}
