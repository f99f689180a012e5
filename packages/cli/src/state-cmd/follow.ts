/** Which run a following command (`orch wait`, `orch dashboard`) is about, said when it is not obvious. */
import { listRuns } from '@orch/store';
import { note } from '../output.js';

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
  if (named) return;
  const others = (await listRuns(repoRoot)).filter((r) => r.live && r.run !== run).map((r) => r.run);
  if (others.length === 0) return;
  note(
    `${command} follows run ${run} (the newest); also live: ${others.join(', ')}. Follow another with \`${command} --run ${others[0]}\`.`,
  );
}
