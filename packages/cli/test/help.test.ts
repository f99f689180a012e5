import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { EXIT_CODE_MEANINGS, ExitCode } from '@orch/core';
import { findAssetsRoot } from '../src/commands/install/assets.js';
import { exitCodesOf } from '../src/exit-codes.js';
import { buildProgram } from '../src/program.js';

/** Every command a user can run, with its full name (`orch state resume`). */
function leaves(cmd: Command, prefix: string[] = []): { name: string; cmd: Command }[] {
  const out: { name: string; cmd: Command }[] = [];
  for (const sub of cmd.commands) {
    if ((sub as unknown as { _hidden?: boolean })._hidden) continue;
    const path = [...prefix, sub.name()];
    out.push({ name: path.join(' '), cmd: sub });
    out.push(...leaves(sub, path));
  }
  return out;
}

function helpOf(cmd: Command): string {
  let text = '';
  cmd.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
  cmd.outputHelp();
  return text;
}

describe('orch --help', () => {
  const all = leaves(buildProgram());

  it('lists every command group', () => {
    const top = all.filter((c) => !c.name.includes(' ')).map((c) => c.name);
    for (const name of [
      'plan',
      'run',
      'verify',
      'state',
      'wait',
      'dashboard',
      'workers',
      'task',
      'mailbox',
      'context',
      'deps',
      'install',
      'doctor',
      'demo',
    ]) {
      expect(top).toContain(name);
    }
  });

  it.each(all.map((c) => [c.name, c.cmd] as const))(
    'orch %s has a description and an example',
    (_name, cmd) => {
      expect(cmd.description().length).toBeGreaterThan(10);
      // Groups show examples of their subcommands; runnable commands show their own.
      expect(helpOf(cmd)).toMatch(/Examples?:\n\s+\$ .*\borch /);
    },
  );

  it('offers --json on every command that prints data', () => {
    const printsData = [
      'plan check',
      'dag',
      'conflicts',
      'risk',
      'env hash',
      'verify',
      'state status',
      'state list',
      'state resume',
      'wait',
      'dashboard',
      'mailbox check',
      'mailbox history',
      'context list',
      'deps list',
      'doctor',
      'demo',
      'run',
    ];
    for (const name of printsData) {
      const found = all.find((c) => c.name === name);
      expect(found, name).toBeDefined();
      expect(
        found!.cmd.options.map((o) => o.long),
        name,
      ).toContain('--json');
    }
  });

  it.each(all.map((c) => [c.name, c.cmd] as const))('orch %s lists its exit codes', (name, cmd) => {
    const text = helpOf(cmd);
    const section = text.slice(text.indexOf('\nExit codes:\n'));
    expect(section.length, name).toBeGreaterThan(0);
    const listed = [...section.matchAll(/^ {2}(\d) {2}/gm)].map((m) => Number(m[1]));
    expect(listed).toEqual(exitCodesOf(name));
  });

  it('lists stopped and still-running runs as exit code 4 where a run can end that way', () => {
    for (const name of ['run', 'demo', 'wait', 'state resume', 'state status']) {
      expect(exitCodesOf(name), name).toContain(ExitCode.NotFinished);
    }
    expect(helpOf(all.find((c) => c.name === 'run')!.cmd)).toMatch(/second\s+stops the run \(exit 4\)/);
  });
});

describe('docs/cli.md', () => {
  it('has the exit code table of the catalogue, row for row', async () => {
    const doc = await readFile(join(findAssetsRoot(), 'docs', 'cli.md'), 'utf8');
    const rows = [...doc.matchAll(/^\| (\d) +\| (.+?) +\|$/gm)].map((m) => [Number(m[1]), m[2]]);
    expect(rows).toEqual(Object.entries(EXIT_CODE_MEANINGS).map(([c, m]) => [Number(c), m]));
  });
});
