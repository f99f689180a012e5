import { arg, defineCommand } from '../../define.js';
import { ExitCode } from '../../exit-codes.js';

/** The process inside a worker's session: runs the agent and ends with the agent's exit code. */
export const exec = defineCommand({
  name: '_exec',
  description: '',
  hidden: true,
  args: { spec: arg.required('spec', 'the JSON file the supervisor wrote for this attempt') },
  async handler({ args }) {
    const { execCommand } = await import('./exec-worker.js');
    return { exitCode: ExitCode.Ok, agentExitCode: await execCommand(args.spec) };
  },
});
