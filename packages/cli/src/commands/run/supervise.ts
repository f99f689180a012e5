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
    // A distributed run (the password comes in ORCH_REDIS_PASSWORD_FILE, never here).
    store: opt.text('--store <url>', ''),
    remote: opt.text('--remote <url>', ''),
    workdir: opt.text('--workdir <dir>', ''),
  },
  async handler({ opts }, io) {
    if (opts.store !== undefined) {
      const { superviseFromStore } = await import('./supervise-store.js');
      return superviseFromStore(
        {
          run: opts.run,
          store: opts.store,
          ...(opts.remote !== undefined ? { remote: opts.remote } : {}),
          ...(opts.workdir !== undefined ? { workdir: opts.workdir } : {}),
          noPromote: !opts.promote,
          resume: opts.resume,
        },
        io,
      );
    }
    const { superviseCommand } = await import('./runner.js');
    return { exitCode: await superviseCommand(opts.run, { noPromote: !opts.promote, resume: opts.resume }) };
  },
});
