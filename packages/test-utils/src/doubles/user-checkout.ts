/**
 * The user's checkouts as records, shaped like the engine's `UserCheckout` port: a test says where a
 * branch is checked out and what is in the way there; the double records each fast-forward.
 */
export interface FakeObstacles {
  dirty: string[];
  overlapping: string[];
  identical: string[];
  different: { path: string; ignored: boolean }[];
}

export const NO_OBSTACLES: FakeObstacles = { dirty: [], overlapping: [], identical: [], different: [] };

export class FakeUserCheckout {
  /** Branch → the path of the checkout that has it. */
  readonly checkedOut = new Map<string, string>();
  /** Path → what is in the way of a fast-forward there. */
  readonly obstaclesAt = new Map<string, FakeObstacles>();
  readonly fastForwards: { path: string; to: string; overwriteIdentical: string[] }[] = [];

  async checkedOutAt(branch: string): Promise<string | undefined> {
    return this.checkedOut.get(branch);
  }

  async obstacles(path: string): Promise<FakeObstacles> {
    return this.obstaclesAt.get(path) ?? NO_OBSTACLES;
  }

  async fastForward(path: string, to: string, opts: { overwriteIdentical: string[] }): Promise<void> {
    this.fastForwards.push({ path, to, overwriteIdentical: opts.overwriteIdentical });
  }
}
