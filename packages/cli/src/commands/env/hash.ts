import { common, defineCommand } from '../../define.js';
import { ExitCode } from '../../exit-codes.js';

export const hash = defineCommand({
  name: 'hash',
  description: 'Print the environment hash (every tracked lockfile, nested ones included)',
  options: { json: common.json('print {hash, lockfiles} as JSON') },
  examples: ['orch env hash --json'],
  async handler({ opts }, { cwd }) {
    const { currentEnvHash } = await import('./hash-of.js');
    const r = await currentEnvHash(cwd);
    if (opts.json) return { exitCode: ExitCode.Ok, json: r };
    return {
      exitCode: ExitCode.Ok,
      lines: [
        `Environment hash: ${r.hash}`,
        `Sources: ${r.lockfiles.length ? r.lockfiles.join(', ') : '(no lockfiles)'}`,
      ],
    };
  },
});
