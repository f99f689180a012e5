import { arg, common, defineCommand, opt } from '../../define.js';
import { ExitCode } from '../../exit-codes.js';

const list = defineCommand({
  name: 'list',
  description: 'Pending requests, and conflicting versions of one package',
  options: { run: common.run(), json: common.json() },
  examples: ['orch deps list --json'],
  async handler({ opts }) {
    const { depsList } = await import('./requests.js');
    await depsList(opts);
    return { exitCode: ExitCode.Ok };
  },
});

const approve = defineCommand({
  name: 'approve',
  description:
    "Install the requested packages on staging with the project's package manager and restart the workers",
  args: { task: arg.optional('task', 'the task whose request to approve') },
  options: {
    all: opt.flag('--all', 'approve every pending request'),
    run: common.run(),
    json: common.json(),
  },
  examples: ['orch deps approve api', 'orch deps approve --all'],
  async handler({ args, opts }) {
    const { depsApprove } = await import('./requests.js');
    await depsApprove(args.task, opts);
    return { exitCode: ExitCode.Ok };
  },
});

const deny = defineCommand({
  name: 'deny',
  description: 'Refuse a request; the worker is told why and starts again without it',
  args: { task: arg.required('task', 'the task whose request to deny') },
  options: {
    reason: opt.requiredText('--reason <text>', 'why (the worker reads it)'),
    run: common.run(),
    json: common.json(),
  },
  examples: ['orch deps deny ui --reason "use the built-in fetch"'],
  async handler({ args, opts }) {
    const { depsDeny } = await import('./requests.js');
    await depsDeny(args.task, opts);
    return { exitCode: ExitCode.Ok };
  },
});

export const deps = defineCommand({
  name: 'deps',
  description: 'Dependency requests from workers: list, approve (install on staging) or deny them',
  examples: ['orch deps list', 'orch deps approve api', 'orch deps deny ui --reason "use fetch, not axios"'],
  subcommands: [list, approve, deny],
});
