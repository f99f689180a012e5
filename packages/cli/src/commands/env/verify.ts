import { arg, common, defineCommand } from '../../define.js';
import { ExitCode } from '../../exit-codes.js';

export const verify = defineCommand({
  name: 'verify',
  description: 'Compare the environment hash with an expected one',
  args: { hash: arg.required('hash', 'the expected hash (from `orch env hash`)') },
  options: { json: common.json('print {match, expected, actual, lockfiles} as JSON') },
  help: 'Exits 0 on a match, 1 otherwise.',
  examples: ['orch env verify 3f2a9c0d1e4b5a67'],
  async handler({ args, opts }, { cwd }) {
    const { currentEnvHash } = await import('./hash-of.js');
    const r = await currentEnvHash(cwd);
    const expected = args.hash;
    const match = r.hash === expected.trim();
    const exitCode = match ? ExitCode.Ok : ExitCode.Failed;
    if (opts.json) return { exitCode, json: { match, expected, actual: r.hash, lockfiles: r.lockfiles } };
    return {
      exitCode,
      lines: match
        ? [`✓ Environment hash matches: ${r.hash}`]
        : [
            `✗ Environment hash mismatch: expected ${expected}, actual ${r.hash}`,
            `Sources: ${r.lockfiles.join(', ') || '(no lockfiles)'}`,
          ],
    };
  },
});
