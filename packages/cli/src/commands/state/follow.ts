/** Which run a following command (`orch wait`, `orch dashboard`) is about, said when it is not obvious. */
import { listRuns } from '@orch/store';
import { note } from '../../output.js';

/**
 * When the run was not named (`--run`) and other runs are live as well, names the one followed and
 * the others, with the command to follow another.
 */
export async function noteFollowedRun(
  repoRoot: string,
  run: string,
  named: boolean,
  command: string,
): Promise<void> {
  // ORCH_RUN names the run as --run does.
  if (named || process.env.ORCH_RUN) return;
  const others = (await listRuns(repoRoot)).filter((r) => r.live && r.run !== run).map((r) => r.run);
  if (others.length === 0) return;
  note(
    `${command} follows run ${run} (the newest); also live: ${others.join(', ')}. Follow another with \`${command} --run ${others[0]}\`.`,
  );
}

/** A run that starts beside live ones says so: `orch wait` and `orch dashboard` now follow the new one. */
export async function noteOtherLiveRuns(repoRoot: string, run: string): Promise<void> {
  for (const r of await listRuns(repoRoot)) {
    if (r.live && r.run !== run)
      note(
        `Run ${r.run} is live too (pid ${r.supervisorPid}); follow it with \`orch dashboard --run ${r.run}\`.`,
      );
  }
}
