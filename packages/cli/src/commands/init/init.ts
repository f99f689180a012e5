import { common, defineCommand } from '../../define.js';

export const init = defineCommand({
  name: 'init',
  description: 'Write a commented orch.yaml and a sample tasks.yaml for this repository',
  options: { json: common.json('print the files written as JSON') },
  help: 'Detects the package manager and the test command. Refuses when orch.yaml, .orch/config.yaml,\n.claude-agents.yaml or tasks.yaml exists: nothing is overwritten.',
  examples: ['orch init && orch plan check'],
  async handler({ opts }, io) {
    const { runInitCommand } = await import('./init-run.js');
    return runInitCommand(opts, io);
  },
});
