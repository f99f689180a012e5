import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { arg, common, defineCommand, emit, opt, parse, type CommandIO, type Runner } from '../src/define.js';
import { ExitCode } from '../src/exit-codes.js';
import { VERSION } from '../src/version.js';
import { orchInProcess } from './in-process.js';

function harness(): {
  io: CommandIO;
  out: () => string;
  err: () => string;
  runner: Runner;
  code: () => number;
} {
  let out = '';
  let err = '';
  let code: number = -1;
  const io: CommandIO = {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    cwd: '/somewhere',
    env: { ORCH_RUN: 'r1' },
  };
  const runner: Runner = {
    io,
    async invoke(h) {
      const r = await h();
      emit(r, io);
      code = r.exitCode;
    },
  };
  return { io, out: () => out, err: () => err, runner, code: () => code };
}

const program = (): Command =>
  new Command('orch')
    .exitOverride()
    .configureOutput({ writeOut: () => undefined, writeErr: () => undefined });

describe('defineCommand', () => {
  it('hands the handler typed arguments, options with their defaults, and the injected cwd and env', async () => {
    const h = harness();
    let seen: unknown;
    const cmd = defineCommand({
      name: 'greet',
      description: 'd',
      args: { who: arg.required('who', 'w'), extra: arg.withDefault('extra', 'e', 'x') },
      options: {
        json: common.json(),
        run: common.run(),
        times: opt.parsedWithDefault('--times <n>', 't', parse.positiveInt, 1),
        tui: opt.negatable('--no-tui', 'n'),
      },
      handler: ({ args, opts }, ctx) => {
        seen = { args, opts, cwd: ctx.cwd, run: ctx.env.ORCH_RUN };
        return { exitCode: ExitCode.NeedsApproval, lines: [`hello ${args.who}`], notes: ['careful'] };
      },
    });
    const p = program();
    cmd.attach(p, h.runner);
    await p.parseAsync(['greet', 'ann', '--times', '3'], { from: 'user' });
    expect(seen).toEqual({
      args: { who: 'ann', extra: 'x' },
      opts: { json: false, times: 3, tui: true },
      cwd: '/somewhere',
      run: 'r1',
    });
    expect(h.code()).toBe(ExitCode.NeedsApproval);
    expect(h.out()).toBe('hello ann\n');
    expect(h.err()).toBe('careful\n');
  });

  it('prints a json result as indented JSON on stdout', async () => {
    const h = harness();
    const p = program();
    defineCommand({
      name: 'j',
      description: 'd',
      handler: () => ({ exitCode: ExitCode.Ok, json: { a: 1 } }),
    }).attach(p, h.runner);
    await p.parseAsync(['j'], { from: 'user' });
    expect(JSON.parse(h.out())).toEqual({ a: 1 });
  });

  it('refuses an option declared under another name than the one commander reads', () => {
    const h = harness();
    const bad = defineCommand({ name: 'b', description: 'd', options: { dry: opt.flag('--dry-run', 'x') } });
    expect(() => bad.attach(program(), h.runner)).toThrow(/read as "dryRun", declared as "dry"/);
  });
});

describe('the program in-process', () => {
  it('--version prints the version and exits 0', async () => {
    const r = await orchInProcess(['--version'], { cwd: process.cwd() });
    expect(r).toEqual({ stdout: `${VERSION}\n`, stderr: '', exitCode: 0 });
  });

  it('a usage error exits 2 and says what is wrong on stderr', async () => {
    const r = await orchInProcess(['wait', '--timeout', 'soon'], { cwd: process.cwd() });
    expect(r.exitCode).toBe(ExitCode.Usage);
    expect(r.stderr).toContain('expected seconds (a number >= 0), got "soon"');
    const unknown = await orchInProcess(['stat'], { cwd: process.cwd() });
    expect(unknown.exitCode).toBe(ExitCode.Usage);
    expect(unknown.stderr).toContain("unknown command 'stat'");
  });

  it('--help ends with the exit code catalogue', async () => {
    const r = await orchInProcess(['--help'], { cwd: process.cwd() });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/Exit codes:\n {2}0 {2}ok\n {2}1 {2}failed\n {2}2 {2}usage/);
    expect(r.stdout).toContain('  4  not finished');
  });
});
