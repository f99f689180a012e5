/**
 * The user's own checkouts of the base branch, for promotion. Local by nature: orch fast-forwards a
 * checkout in place only on the machine that holds it (the supervisor's, when it runs in the user's
 * repository); a distributed run without one pushes the base branch through `Repository` instead.
 * Kept apart from `Workspaces` (orch's task checkouts, possibly on other hosts) so nothing else
 * reaches the user's files.
 */
import type { CheckoutObstacles } from '@orch/git';

export interface UserCheckout {
  /** The path of the checkout where `branch` is checked out, if any. */
  checkedOutAt(branch: string): Promise<string | undefined>;
  /** What of the user's is in the way of fast-forwarding the checkout at `path` from `from` to `to`. */
  obstacles(path: string, from: string, to: string): Promise<CheckoutObstacles>;
  /** Fast-forwards the checkout at `path` to `to`; `overwriteIdentical`: untracked files holding exactly the new bytes. */
  fastForward(path: string, to: string, opts: { overwriteIdentical: string[] }): Promise<void>;
}
