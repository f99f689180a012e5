import { defineCommand, opt } from '../../define.js';

/** The detached supervisor of a run, started by `orch run --detach` or `orch state resume --detach`. */
export const supervise = defineCommand({
  name: '_supervise',
  description: '',
  hidden: true,
  options: {
    run: opt.requiredText('--run <id>', ''),
    promote: opt.negatable('--no-promote', ''),
    resume: opt.flag('--resume', ''),
  },
  async handler({ opts }) {
    const { superviseCommand } = await import('./runner.js');
    return { exitCode: await superviseCommand(opts.run, { noPromote: !opts.promote, resume: opts.resume }) };
  },
});
