// Only the wrapper's module, not all of the engine: every worker's session starts this.
import { execWorker, readExecSpec } from '@orch/engine/worker/exec';
import { resolveRun } from '@orch/store';

/** The process inside a worker's tmux session; returns the agent's exit code. */
export async function execCommand(specFile: string): Promise<number> {
  const spec = await readExecSpec(specFile);
  const { repoRoot } = await resolveRun({ cwd: process.cwd(), env: process.env, run: spec.run });
  return execWorker(repoRoot, spec);
}
