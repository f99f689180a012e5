import { Argument, type Command } from 'commander';

export function register(program: Command): void {
  program
    .command('completion')
    .description('Print a shell completion script for orch (bash, zsh or fish)')
    .addArgument(new Argument('<shell>', 'the shell').choices(['bash', 'zsh', 'fish']))
    .addHelpText(
      'after',
      [
        '',
        'Load it in the current shell, or add the line to your shell startup file.',
        '',
        'Examples:',
        '  $ source <(orch completion bash)      # ~/.bashrc',
        '  $ source <(orch completion zsh)       # ~/.zshrc (after compinit)',
        '  $ orch completion fish | source       # ~/.config/fish/config.fish',
      ].join('\n'),
    )
    .action(async (shell: 'bash' | 'zsh' | 'fish', _opts: unknown, cmd: Command) => {
      const { completionScript } = await import('../../completion/script.js');
      const { writeOut } = await import('../../output.js');
      let root = cmd;
      while (root.parent) root = root.parent;
      await writeOut(completionScript(root, shell));
      process.exitCode = 0;
    });
}
