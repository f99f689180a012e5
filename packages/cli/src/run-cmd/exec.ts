import { execWorker } from '@orch/engine';
import { resolveRun } from '@orch/store';

export async function execCommand(argv: string[], o: Record<string, string | string[]>): Promise<void> {
  const { repoRoot } = await resolveRun({ cwd: process.cwd(), env: process.env, run: String(o.run) });
  process.exitCode = await execWorker({
    repoRoot,
    run: String(o.run),
    task: String(o.task),
    attempt: Number(o.attempt),
    agent: String(o.agent),
    rawLog: String(o.rawLog),
    ...(typeof o.stdin === 'string' ? { stdin: o.stdin } : {}),
    unset: Array.isArray(o.unset) ? o.unset : [],
    ...(typeof o.path === 'string' ? { path: o.path } : {}),
    argv,
  });
}
