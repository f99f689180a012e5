/** Which run a following command (`orch wait`, `orch dashboard`) is about, said when it is not obvious. */
import { listRuns } from '@orch/store';

/**
 * When the run was not named (`--run` or ORCH_RUN) and other runs are live as well, the remark that
 * names the one followed and the others, with the command to follow another.
 */
export async function followedRunNote(
  repoRoot: string,
  run: string,
  named: boolean,
  command: string,
): Promise<string | undefined> {
  if (named) return undefined;
  const others = (await listRuns(repoRoot)).filter((r) => r.live && r.run !== run).map((r) => r.run);
  if (others.length === 0) return undefined;
  return `${command} follows run ${run} (the newest); also live: ${others.join(', ')}. Follow another with \`${command} --run ${others[0]}\`.`;
}

/** A run that starts beside live ones says so: `orch wait` and `orch dashboard` now follow the new one. */
export async function otherLiveRunNotes(repoRoot: string, run: string): Promise<string[]> {
  return (await listRuns(repoRoot))
    .filter((r) => r.live && r.run !== run)
    .map(
      (r) =>
        `Run ${r.run} is live too (pid ${r.supervisorPid}); follow it with \`orch dashboard --run ${r.run}\`.`,
    );
}
