import { runGit, splitNul } from '@orch/git';

/** Every tracked file of the repository at `root`, repo-relative (`git ls-files`). */
export async function trackedFiles(root: string): Promise<string[]> {
  const r = await runGit(['ls-files', '-z'], { cwd: root, keepFinalNewline: true });
  return splitNul(r.stdout);
}
