/**
 * A condition variable for the supervisor: code awaits a predicate over the run state, and every
 * journal change wakes the waiters to re-check. No polling loop; timers only for real deadlines,
 * on the run's clock.
 */
import { systemClock, type Clock } from '../ports/clock.js';

export class Waiter {
  private readonly waiters = new Set<() => void>();

  constructor(private readonly clock: Clock = systemClock) {}

  /** Wakes every waiter so it re-checks its predicate. */
  notify(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolves true once `pred()` holds, false when `timeoutMs` passes or `signal` aborts first. */
  until(pred: () => boolean, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<boolean> {
    if (pred()) return Promise.resolve(true);
    return new Promise((resolve) => {
      let cancel: (() => void) | undefined;
      const done = (v: boolean): void => {
        this.waiters.delete(check);
        cancel?.();
        opts.signal?.removeEventListener('abort', onAbort);
        resolve(v);
      };
      const check = (): void => {
        if (pred()) done(true);
      };
      const onAbort = (): void => done(false);
      if (opts.timeoutMs !== undefined) cancel = this.clock.setTimer(() => done(pred()), opts.timeoutMs);
      if (opts.signal?.aborted) return done(false);
      opts.signal?.addEventListener('abort', onAbort);
      this.waiters.add(check);
    });
  }
}
