/**
 * A counting semaphore for work that competes for the machine (verification, checkouts): at most
 * `size` at once, the rest in arrival order. A finished job hands its lane straight to the next in
 * line, so no newcomer can slip in between and run one too many.
 */
export class Lanes {
  private busy = 0;
  private readonly queue: (() => void)[] = [];

  constructor(readonly size: number) {}

  /** Lanes taken right now. */
  get inUse(): number {
    return this.busy;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.busy >= this.size) await new Promise<void>((r) => this.queue.push(r));
    else this.busy += 1;
    try {
      return await fn();
    } finally {
      const next = this.queue.shift();
      if (next) next();
      else this.busy -= 1;
    }
  }
}
