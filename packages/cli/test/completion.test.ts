import type { Command } from 'commander';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { SHELLS, completionScript, completionTree } from '../src/completion/script.js';
import { buildProgram } from '../src/program.js';

/** Every visible command of the program, walked here independently of the generator. */
function commands(cmd: Command, path = 'orch'): { path: string; cmd: Command }[] {
  const out = [{ path, cmd }];
  for (const sub of cmd.commands) {
    if ((sub as unknown as { _hidden?: boolean })._hidden) continue;
    out.push(...commands(sub, `${path} ${sub.name()}`));
  }
  return out;
}

const program = buildProgram();
const all = commands(program);

describe('orch completion: generated from the program', () => {
  it('the tree has every command with each of its options and subcommands, and no hidden command', () => {
    const tree = new Map(completionTree(program).map((n) => [n.path, n]));
    expect([...tree.keys()].sort()).toEqual(all.map((c) => c.path).sort());
    expect([...tree.keys()].some((p) => p.includes('_supervise') || p.includes('_exec'))).toBe(false);
    for (const { path, cmd } of all) {
      const node = tree.get(path)!;
      const flags = node.options.flatMap((o) => o.flags);
      for (const o of cmd.options) {
        // Hidden options are orch's own plumbing (`orch run --run-id`), never offered.
        if (o.long && !o.hidden) expect(flags, path).toContain(o.long);
        if (o.long && o.hidden) expect(flags, path).not.toContain(o.long);
      }
      expect(node.subcommands.map((s) => s.name).sort(), path).toEqual(
        cmd.commands
          .filter((c) => !(c as unknown as { _hidden?: boolean })._hidden)
          .map((c) => c.name())
          .sort(),
      );
    }
    expect(tree.get('orch completion')!.choices).toEqual(['bash', 'zsh', 'fish']);
    expect(tree.get('orch schema')!.choices).toEqual(['plan', 'config']);
  });

  it.each(SHELLS)('the %s script names every command path and every long option', (shell) => {
    const script = completionScript(program, shell);
    for (const { path, cmd } of all) {
      expect(script, `${shell}: ${path}`).toContain(path);
      for (const o of cmd.options) {
        if (!o.long || o.hidden) continue;
        const flag = shell === 'fish' ? `-l ${o.long.slice(2)}` : o.long;
        expect(script, `${shell}: ${path} ${o.long}`).toContain(flag);
      }
    }
  });

  /** What bash completes for the words typed so far (the last one being completed). */
  async function bashComplete(words: string[]): Promise<string[]> {
    const script = completionScript(program, 'bash');
    const setup = `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}`;
    const r = await execa('bash', [
      '-c',
      `${script}\n${setup}\n_orch_complete\nprintf '%s\\n' "\${COMPREPLY[@]}"`,
    ]);
    return r.stdout.split('\n').filter(Boolean);
  }

  it('bash completes subcommands, options of the command typed, and argument choices', async () => {
    expect(await bashComplete(['orch', 'sta'])).toEqual(['state']);
    expect(await bashComplete(['orch', 'state', 'res'])).toEqual(['resume']);
    expect(await bashComplete(['orch', 'state', 'status', '--j'])).toEqual(['--json']);
    // Options of another command are not offered; words that are not commands are skipped.
    expect(await bashComplete(['orch', 'run', 'tasks.yaml', '--max-w'])).toEqual(['--max-workers']);
    expect(await bashComplete(['orch', 'completion', ''])).toEqual(
      expect.arrayContaining(['bash', 'zsh', 'fish', '--help']),
    );
  });
});
