import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { findAssetsRoot } from '../src/commands/install/assets.js';
import {
  checkInvocation,
  codeOf,
  extractOrchInvocations,
  type Invocation,
} from '../src/commands/install/drift.js';
import { buildProgram } from '../src/program.js';

const root = findAssetsRoot();

async function markdownUnder(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await markdownUnder(full)));
    else if (e.name.endsWith('.md')) out.push(full);
  }
  return out.sort();
}

async function allInvocations(): Promise<Invocation[]> {
  const files = [
    ...(await markdownUnder(join(root, 'agents'))),
    ...(await markdownUnder(join(root, 'roles'))),
    ...(await markdownUnder(join(root, 'skills'))),
    ...(await markdownUnder(join(root, 'docs'))),
    ...(existsSync(join(root, 'README.md')) ? [join(root, 'README.md')] : []),
  ];
  const out: Invocation[] = [];
  for (const f of files) out.push(...extractOrchInvocations(await readFile(f, 'utf8'), relative(root, f)));
  return out;
}

/** A small program shaped like orch's, to test the checker itself. */
function toyProgram(): Command {
  const p = new Command('orch');
  const plan = p
    .command('plan')
    .argument('[request]')
    .option('-o, --output <file>')
    .option('--yes')
    .option('--json');
  plan.command('check').argument('<plan>').option('--json');
  const state = p.command('state');
  state.command('status').option('--run <id>').option('--json');
  state.command('abort').option('--run <id>').option('--yes').option('--dry-run');
  p.command('run').argument('[plan]').option('--detach').option('--no-tui').option('--max-workers <n>');
  p.command('wait').option('--timeout <seconds>');
  return p;
}

describe('extracting orch invocations from Markdown', () => {
  it('finds commands in code spans and fenced blocks, cut at shell separators, and nothing in prose', () => {
    const md = [
      'Run `orch plan check tasks.yaml --json` first; orch then says more.',
      'Paths such as `.orchestrator/` and `orch/<run>/staging` are not commands, nor is `orch` alone.',
      '',
      '```',
      '$ orch run tasks.yaml --detach && orch wait --timeout 540 | tail -1',
      'x=$(orch state status --json)',
      '"leftovers": null, // the commit orch made of leftover changes',
      'ORCH_TASK=a orch task progress "half done"',
      '```',
      'A span that wraps: `orch state abort',
      '--dry-run`.',
      '',
      '```text',
      'orch workers run 20261121-091500-3f2a  2 live',
      '```',
    ].join('\n');
    const found = extractOrchInvocations(md, 'x.md').map((i) => `${i.line}: ${i.text}`);
    expect(found).toEqual([
      '1: orch plan check tasks.yaml --json',
      '5: orch run tasks.yaml --detach',
      '5: orch wait --timeout 540',
      '6: orch state status --json',
      '8: orch task progress "half done"',
      '10: orch state abort --dry-run',
    ]);
    expect(codeOf('```yaml\na: 1\n```\n').map((c) => c.code)).toEqual(['a: 1']);
  });
});

describe('checking an invocation against the program', () => {
  const p = toyProgram();
  it.each([
    'orch plan check tasks.yaml --json',
    'orch plan "add a login page" -o tasks.yaml --yes',
    'orch run --detach --no-tui --max-workers 4',
    'orch state status|abort [--run ID] [--json] [--dry-run]',
    'orch wait --timeout=540',
    'orch state status --help',
    'orch --version',
  ])('accepts %s', (text) => {
    expect(checkInvocation(p, text)).toBeNull();
  });

  it.each([
    ['orch plan chek tasks.yaml', null],
    ['orch plan check tasks.yaml --verbose', 'has no option --verbose'],
    ['orch state watch', 'has no subcommand watch'],
    ['orch wait now', 'takes no argument'],
    ['orch run --detach --signal-file x', 'has no option --signal-file'],
    ['orch state status|resume', 'has no subcommand status|resume'],
    ['orch wait --timeout 540 --json', 'has no option --json'],
    ['orch', 'no command given'],
  ])('rejects %s', (text, reason) => {
    // `plan chek` is an argument of `plan` (it takes a request), which commander accepts too.
    if (reason === null) expect(checkInvocation(p, text)).toBeNull();
    else expect(checkInvocation(p, text)).toContain(reason);
  });
});

describe('drift guard: the agents, the skill and the docs only use commands that exist', () => {
  it('every orch invocation names an existing command and only its flags', async () => {
    const invocations = await allInvocations();
    // The agents and the skill alone use far more than this; an empty list would mean a broken extractor.
    expect(invocations.length).toBeGreaterThan(40);
    const program = buildProgram();
    const problems = invocations
      .map((inv) => ({ inv, problem: checkInvocation(program, inv.text) }))
      .filter((r) => r.problem !== null)
      .map(({ inv, problem }) => `${inv.file}:${inv.line}: ${inv.text}  →  ${problem}`);
    expect(problems, `unknown orch invocations:\n${problems.join('\n')}`).toEqual([]);
  });
});
