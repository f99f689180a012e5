/**
 * A condition variable for the supervisor: code awaits a predicate over the run state, and every
 * journal change wakes the waiters to re-check. No polling loop; timers only for real deadlines.
 */
export class Waiter {
  private readonly waiters = new Set<() => void>();

  /** Wakes every waiter so it re-checks its predicate. */
  notify(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolves true once `pred()` holds, false when `timeoutMs` passes or `signal` aborts first. */
  until(pred: () => boolean, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<boolean> {
    if (pred()) return Promise.resolve(true);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (v: boolean): void => {
        this.waiters.delete(check);
        if (timer) clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        resolve(v);
      };
      const check = (): void => {
        if (pred()) done(true);
      };
      const onAbort = (): void => done(false);
      if (opts.timeoutMs !== undefined) timer = setTimeout(() => done(pred()), Math.max(0, opts.timeoutMs));
      if (opts.signal?.aborted) return done(false);
      opts.signal?.addEventListener('abort', onAbort);
      this.waiters.add(check);
    });
  }
}
