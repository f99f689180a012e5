/**
 * A repository of refs and a commit graph in memory, shaped like the engine's `Repository` port:
 * commits are names the test makes up, each with its parents; landings (staging's trailers) are
 * scripted. Operations a test did not set up throw, so a path that reaches them shows.
 */
import { OrchError, type Landing } from '@orch/core';

export class MemoryRepository {
  readonly refs = new Map<string, string>();
  private readonly graph = new Map<string, string[]>();
  /** What `landings(tip, since)` reports for each tip. */
  readonly landingsAt = new Map<string, Landing[]>();
  /** Ref updates and deletions, in order, for assertions. */
  readonly log: string[] = [];

  /** Adds a commit with its parents. */
  commit(name: string, parents: string[] = []): string {
    this.graph.set(name, parents);
    return name;
  }

  /** Points a branch (short name) at a commit. */
  branch(name: string, commit: string): this {
    this.refs.set(`refs/heads/${name}`, commit);
    return this;
  }

  private resolve(ref: string): string | null {
    const bare = ref.replace(/\^\{commit\}$/, '');
    return this.refs.get(bare) ?? (this.graph.has(bare) ? bare : null);
  }

  async revParse(ref: string): Promise<string> {
    const c = this.resolve(ref);
    if (c === null) throw new Error(`unknown ref ${ref}`);
    return c;
  }

  async tryRevParse(ref: string): Promise<string | null> {
    return this.resolve(ref);
  }

  /** `a` is `b` or reachable from it through parents. */
  async isAncestor(a: string, b: string): Promise<boolean> {
    const seen = new Set<string>();
    const todo = [b];
    while (todo.length > 0) {
      const c = todo.pop() as string;
      if (c === a) return true;
      if (seen.has(c)) continue;
      seen.add(c);
      todo.push(...(this.graph.get(c) ?? []));
    }
    return false;
  }

  async landings(tip: string): Promise<Landing[]> {
    return this.landingsAt.get(tip) ?? [];
  }

  async updateRef(ref: string, next: string, expectedOld: string | null): Promise<void> {
    // As git's compare-and-swap does: the caller retries or stops on this code.
    if ((this.refs.get(ref) ?? null) !== expectedOld)
      throw new OrchError('ERR_ORCH_REF_MOVED', `${ref} is not at ${expectedOld ?? '(none)'}`);
    this.refs.set(ref, next);
    this.log.push(`update ${ref} ${next}`);
  }

  async archiveBranch(branch: string, archiveName: string): Promise<{ commit: string; ref: string } | null> {
    const commit = this.refs.get(`refs/heads/${branch}`);
    if (commit === undefined) return null;
    let ref = `refs/heads/${archiveName}`;
    for (let n = 2; this.refs.has(ref) && this.refs.get(ref) !== commit; n += 1)
      ref = `refs/heads/${archiveName}-${n}`;
    this.refs.set(ref, commit);
    this.log.push(`archive ${branch} ${ref}`);
    return { commit, ref };
  }

  async deleteBranch(name: string): Promise<void> {
    this.refs.delete(`refs/heads/${name}`);
    this.log.push(`delete ${name}`);
  }

  mergeBase(): Promise<string | null> {
    return unscripted('mergeBase');
  }
  mergeInto(): Promise<never> {
    return unscripted('mergeInto');
  }
  mergedTree(): Promise<string | null> {
    return unscripted('mergedTree');
  }
  readFile(): Promise<string | null> {
    return unscripted('readFile');
  }
  lsTree(): Promise<never[]> {
    return unscripted('lsTree');
  }
  changedPaths(): Promise<never[]> {
    return unscripted('changedPaths');
  }
  commitMerge(): Promise<never> {
    return unscripted('commitMerge');
  }
  /** The parents a test gave the commit. */
  async parents(commit: string): Promise<string[]> {
    return this.graph.get(commit) ?? [];
  }
  diff(): Promise<{ stat: string; patch: string }> {
    return unscripted('diff');
  }
}

function unscripted(what: string): Promise<never> {
  return Promise.reject(new Error(`MemoryRepository.${what} is not scripted in this test`));
}
