/** The local repository as the engine's `Repository` port. */
import {
  archiveRef,
  casUpdateRef,
  changedPaths,
  commitMerge,
  landingsOn,
  mergeIntoRef,
  mergedTree,
  type Repo,
} from '@orch/git';
import type { Repository } from './repository.js';

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
      return r ? { commit: r.commit } : null;
    },
    deleteBranch: async (name) => {
      await repo.deleteBranch(name, { force: true });
    },
    commitMerge: (opts) => commitMerge(repo, opts),
    parents: async (commit) =>
      (await repo.git(['rev-list', '--parents', '-n', '1', `${commit}^{commit}`, '--'])).stdout
        .trim()
        .split(' ')
        .slice(1),
  };
}
