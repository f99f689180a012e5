import { execWorker, readExecSpec } from '@orch/engine';
import { resolveRun } from '@orch/store';

/** The process inside a worker's tmux session. */
export async function execCommand(specFile: string): Promise<void> {
  const spec = await readExecSpec(specFile);
  const { repoRoot } = await resolveRun({ cwd: process.cwd(), env: process.env, run: spec.run });
  process.exitCode = await execWorker(repoRoot, spec);
}
