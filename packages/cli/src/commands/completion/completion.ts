import { arg, defineCommand } from '../../define.js';
import { ExitCode } from '../../exit-codes.js';

export const completion = defineCommand({
  name: 'completion',
  description: 'Print a shell completion script for orch (bash, zsh or fish)',
  args: { shell: arg.choice('shell', 'the shell', ['bash', 'zsh', 'fish']) },
  help: 'Load it in the current shell, or add the line to your shell startup file.',
  examples: [
    'source <(orch completion bash)      # ~/.bashrc',
    'source <(orch completion zsh)       # ~/.zshrc (after compinit)',
    'orch completion fish | source       # ~/.config/fish/config.fish',
  ],
  async handler({ args }, io) {
    const { completionScript } = await import('../../completion/script.js');
    // Generated from the whole program, built afresh: the same tree `--help` shows.
    const { buildProgram } = await import('../../program.js');
    return {
      exitCode: ExitCode.Ok,
      lines: [completionScript(buildProgram(io), args.shell).replace(/\n$/, '')],
    };
  },
});
