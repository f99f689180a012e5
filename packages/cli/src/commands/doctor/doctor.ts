import { common, defineCommand } from '../../define.js';

export const doctor = defineCommand({
  name: 'doctor',
  description: 'Check that git, tmux, node and the agent CLIs orch needs are ready',
  options: { json: common.json('print the checks as JSON') },
  help: 'Exits 1 when a required check (git >= 2.38, tmux >= 3.2, node >= 20) fails; the rest are warnings.',
  examples: ['orch doctor --json'],
  async handler({ opts }, io) {
    const { runDoctorCommand } = await import('./doctor-run.js');
    return runDoctorCommand(opts, io);
  },
});
