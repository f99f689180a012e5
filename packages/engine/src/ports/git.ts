/** The local repository as the engine's `Repository` port, and the user's checkouts for promotion. */
import {
  archiveRef,
  casUpdateRef,
  changedPaths,
  commitMerge,
  fastForwardCheckout,
  fastForwardObstacles,
  landingsOn,
  mergeIntoRef,
  mergedTree,
  type Repo,
} from '@orch/git';
import type { Repository } from './repository.js';
import type { UserCheckout } from './user-checkout.js';

const DIFF_FLAGS = ['--no-color', '--no-ext-diff', '--no-textconv', '-M'];

export function gitRepository(repo: Repo): Repository {
  return {
    revParse: (ref) => repo.revParse(ref),
    tryRevParse: (ref) => repo.tryRevParse(ref),
    isAncestor: (a, b) => repo.isAncestor(a, b),
    mergeBase: (a, b) => repo.mergeBase(a, b),
    mergeInto: (opts) => mergeIntoRef(repo, opts),
    mergedTree: (onto, source) => mergedTree(repo, onto, source),
    updateRef: (ref, next, expectedOld, message) => casUpdateRef(repo, ref, next, expectedOld, message),
    landings: (tip, since) => landingsOn(repo, tip, since),
    readFile: (commit, path) => repo.readFileAt(commit, path),
    lsTree: (commit) => repo.lsTree(commit),
    changedPaths: (base, head, opts) => changedPaths(repo, base, head, opts),
    archiveBranch: async (branch, name) => {
      const r = await archiveRef(repo, branch, name);
      return r ? { commit: r.commit, ref: r.ref } : null;
    },
    deleteBranch: async (name) => {
      await repo.deleteBranch(name, { force: true });
    },
    diff: async (base, head) => ({
      stat: (await repo.git(['diff', '--stat=120', ...DIFF_FLAGS, base, head])).stdout,
      patch: (await repo.git(['diff', ...DIFF_FLAGS, base, head], { keepFinalNewline: true })).stdout,
    }),
    commitMerge: (opts) => commitMerge(repo, opts),
    parents: async (commit) =>
      (await repo.git(['rev-list', '--parents', '-n', '1', `${commit}^{commit}`, '--'])).stdout
        .trim()
        .split(' ')
        .slice(1),
  };
}

export function gitUserCheckout(repo: Repo): UserCheckout {
  return {
    checkedOutAt: async (branch) => (await repo.checkedOutBranches()).get(branch),
    obstacles: (path, from, to) => fastForwardObstacles(repo, path, from, to),
    fastForward: async (path, to, opts) => {
      await fastForwardCheckout(path, to, opts);
    },
  };
}
