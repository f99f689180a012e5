import { arg, defineCommand } from '../../define.js';
import { ExitCode } from '../../exit-codes.js';

export const completion = defineCommand({
  name: 'completion',
  description: 'Print a shell completion script for orch (bash, zsh or fish)',
  args: { shell: arg.required('shell', 'the shell: bash, zsh or fish') },
  help: 'Load it in the current shell, or add the line to your shell startup file.',
  examples: [
    'source <(orch completion bash)      # ~/.bashrc',
    'source <(orch completion zsh)       # ~/.zshrc (after compinit)',
    'orch completion fish | source       # ~/.config/fish/config.fish',
  ],
  async handler({ args }, ctx) {
    const { SHELLS, completionScript } = await import('../../completion/script.js');
    const shell = SHELLS.find((s) => s === args.shell);
    if (!shell) {
      ctx.stderr.write(`error: shell must be one of ${SHELLS.join(', ')}, got "${args.shell}"\n`);
      return ctx.usage();
    }
    // The script is generated from the whole program, built afresh: the same tree `--help` shows.
    const { buildProgram } = await import('../../program.js');
    return { exitCode: ExitCode.Ok, lines: [completionScript(buildProgram(ctx), shell).replace(/\n$/, '')] };
  },
});
