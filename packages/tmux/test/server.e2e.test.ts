import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { OrchError } from '@orch/core';
import { tmuxFixture } from '@orch/test-utils';
import { sessionName } from '../src/names.js';
import { TmuxServer } from '../src/server.js';
import { eventually, printArgs, readLog, setup } from './helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});
async function fresh(env?: Record<string, string>) {
  const s = await setup(env);
  cleanups.push(s.cleanup);
  return s;
}
const argsIn = (log: string) => {
  const line = log.split(/\r?\n/).find((l) => l.startsWith('ARGS'));
  return line ? (JSON.parse(line.slice(4)) as string[]) : undefined;
};

describe('TmuxServer sessions', () => {
  it('keeps the dead pane of a fast-exiting program and logs its output', async () => {
    const { server, dir } = await fresh();
    const log = join(dir, 'logs', 'echo.log');
    const made = await server.newSession({
      name: 'echo',
      cwd: dir,
      argv: ['/bin/echo', 'hello-from-echo'],
      logFile: log,
    });
    expect(made.paneId).toMatch(/^%\d+$/);
    expect(made.pid).toBeGreaterThan(0);
    const st = await server.waitForExit('echo', { timeoutMs: 10_000 });
    expect(st).toMatchObject({ exists: true, dead: true, exitStatus: 0, timedOut: false, pid: made.pid });
    expect(await eventually(readLog(log), (s) => s.includes('hello-from-echo'))).toContain('hello-from-echo');
    expect(await server.hasSession('echo')).toBe(true);
  });

  it('reads exit codes back', async () => {
    const { server, dir } = await fresh();
    await server.newSession({ name: 'seven', cwd: dir, argv: ['/bin/sh', '-c', 'sleep 0.2; exit 7'] });
    const st = await server.waitForExit('seven', { timeoutMs: 10_000 });
    expect(st).toMatchObject({ dead: true, exitStatus: 7, exitSignal: null });
    const [pane] = await server.listPanes('seven');
    expect(pane).toMatchObject({ session: 'seven', dead: true, exitStatus: 7 });
    await server.newSession({ name: 'term', cwd: dir, argv: ['/bin/sh', '-c', 'kill -TERM $$'] });
    expect(await server.waitForExit('term', { timeoutMs: 10_000 })).toMatchObject({
      dead: true,
      exitStatus: null,
      exitSignal: 15,
    });
  });

  it('passes argv, env and paths literally: no shell, no tmux formats, no command splitting', async () => {
    const { server, dir } = await fresh();
    const odd = join(dir, "it's #{session_name} $HOME;");
    await mkdir(odd);
    const log = join(odd, 'out #{pane_id}.log');
    const argv = printArgs('$HOME', ';', 'a;', 'x\\;', '#{session_name}', '-n', '$(touch pwned)', '');
    await server.newSession({
      name: 'lit',
      cwd: odd,
      argv: [
        ...argv.slice(0, 2),
        'console.log("ARGS" + JSON.stringify([process.cwd(), process.env.FOO, ...process.argv.slice(1)]))',
        ...argv.slice(3),
      ],
      env: { FOO: 'a#{session_name} $HOME;' },
      logFile: log,
    });
    await server.waitForExit('lit', { timeoutMs: 10_000 });
    const got = argsIn(await eventually(readLog(log), (s) => argsIn(s) !== undefined));
    expect(got).toEqual([
      odd,
      'a#{session_name} $HOME;',
      '$HOME',
      ';',
      'a;',
      'x\\;',
      '#{session_name}',
      '-n',
      '$(touch pwned)',
      '',
    ]);
    expect(await readdir(odd)).not.toContain('pwned');
  });

  it('runs a one-element argv without a shell parsing it', async () => {
    const { server, dir } = await fresh();
    const script = join(dir, 'my $HOME; prog');
    await writeFile(script, '#!/bin/sh\necho "ran:$0"\n');
    await chmod(script, 0o755);
    const log = join(dir, 'one.log');
    await server.newSession({ name: 'one', cwd: dir, argv: [script], logFile: log });
    expect(await server.waitForExit('one', { timeoutMs: 10_000 })).toMatchObject({
      dead: true,
      exitStatus: 0,
    });
    expect(await eventually(readLog(log), (s) => s.includes('ran:'))).toContain(`ran:${script}`);
  });

  it('targets sessions exactly: `a` does not hit `a-1`', async () => {
    const { server, dir } = await fresh();
    await server.newSession({ name: 'a-1', cwd: dir, argv: ['sleep', '30'] });
    expect(await server.hasSession('a')).toBe(false);
    expect(await server.paneState('a')).toMatchObject({ exists: false });
    await expect(server.capture('a')).rejects.toMatchObject({ code: 'ERR_ORCH_TMUX_NO_SESSION' });
    await expect(server.sendText('a', 'x')).rejects.toMatchObject({ code: 'ERR_ORCH_TMUX_NO_SESSION' });
    await server.killSession('a');
    expect(await server.waitForExit('a', { timeoutMs: 5_000 })).toMatchObject({
      exists: false,
      timedOut: false,
    });
    expect(await server.hasSession('a-1')).toBe(true);
    expect(await server.paneState('a-1')).toMatchObject({ exists: true, dead: false, exitStatus: null });
  });

  it('maps task ids with `.` and `_` to distinct sessions', async () => {
    const { server, dir } = await fresh();
    const names = ['a.b', 'a_b', 'a-b', 'a:b'].map((t) => sessionName('run1', t));
    for (const name of names) await server.newSession({ name, cwd: dir, argv: ['sleep', '30'] });
    const sessions = (await server.listPanes('orch-run1__')).map((p) => p.session).sort();
    expect(sessions).toEqual([...names].sort());
    expect(await server.listPanes('orch-other__')).toEqual([]);
  });

  it('refuses a duplicate name without touching the existing session', async () => {
    const { server, dir } = await fresh();
    const first = join(dir, 'first.log');
    const second = join(dir, 'second.log');
    const script = 'let n=0; setInterval(() => console.log("tick" + n++), 50)';
    await server.newSession({
      name: 'dup',
      cwd: dir,
      argv: [process.execPath, '-e', script],
      logFile: first,
    });
    const err = await server
      .newSession({ name: 'dup', cwd: dir, argv: ['/bin/echo', 'second'], logFile: second })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OrchError);
    expect(err).toMatchObject({ code: 'ERR_ORCH_TMUX_DUPLICATE_SESSION' });
    expect(await server.paneState('dup')).toMatchObject({ exists: true, dead: false });
    // The failed chain stopped at new-session: the live pane still logs to its own file only.
    expect(await eventually(readLog(first), (s) => s.includes('tick3'))).toContain('tick3');
    expect(await readLog(second)()).toBe('');
  });

  it('rejects bad names, missing directories and empty argv with OrchErrors', async () => {
    const { server, dir } = await fresh();
    await expect(server.newSession({ name: 'a.b', cwd: dir, argv: ['true'] })).rejects.toMatchObject({
      code: 'ERR_ORCH_TMUX_BAD_NAME',
    });
    await expect(
      server.newSession({ name: 'x', cwd: join(dir, 'nope'), argv: ['true'] }),
    ).rejects.toMatchObject({
      code: 'ERR_ORCH_TMUX_BAD_CWD',
    });
    await expect(server.newSession({ name: 'x', cwd: dir, argv: [] })).rejects.toMatchObject({
      code: 'ERR_ORCH_TMUX_BAD_ARGV',
    });
    await expect(
      server.newSession({ name: 'x', cwd: dir, argv: ['true'], env: { 'A B': '1' } }),
    ).rejects.toMatchObject({ code: 'ERR_ORCH_TMUX_BAD_ENV' });
    expect(await server.hasSession('x')).toBe(false);
  });
});

describe('TmuxServer without a server', () => {
  it('treats no server (no socket, then a stale socket) as empty', async () => {
    const { server, dir } = await fresh();
    const check = async () => {
      expect(await server.listPanes()).toEqual([]);
      expect(await server.hasSession('x')).toBe(false);
      expect(await server.paneState('x')).toMatchObject({ exists: false, dead: false, pid: null });
      await server.killSession('x');
      await server.killServer();
    };
    await check();
    await server.newSession({ name: 's', cwd: dir, argv: ['sleep', '30'] });
    await server.killServer();
    await check();
  });

  it('reports a missing tmux binary as an OrchError with an install hint', async () => {
    const { dir } = await fresh();
    const server = new TmuxServer({ socket: 'orch-test-nobin', env: { PATH: dir } });
    const err = await server.listPanes().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_ORCH_TMUX_MISSING' });
    expect((err as OrchError).hint).toMatch(/install tmux/i);
  });
});

describe('TmuxServer isolation', () => {
  it('never contacts another server: only our socket appears in TMUX_TMPDIR', async () => {
    const { dir: tmuxTmp } = await fresh();
    const { server, socket, dir } = await fresh({ TMUX_TMPDIR: tmuxTmp });
    await server.ensureConfig(join(dir, 'cfg'));
    await server.newSession({ name: 'iso', cwd: dir, argv: ['sleep', '30'] });
    await server.sendText('iso', 'hi');
    await server.capture('iso');
    await server.listPanes();
    await server.paneState('iso');
    await server.waitForExit('iso', { timeoutMs: 200 });
    await server.killSession('iso');
    await server.killServer();
    const [uidDir, ...rest] = await readdir(tmuxTmp);
    expect(rest).toEqual([]);
    expect(uidDir).toMatch(/^tmux-\d+$/);
    expect(await readdir(join(tmuxTmp, uidDir!))).toEqual([socket]);
    expect(server.socketPath()).toBe(join(tmuxTmp, uidDir!, socket));
  });

  it('killServer kills only its own server', async () => {
    const a = await tmuxFixture();
    const b = await tmuxFixture();
    cleanups.push(a.cleanup, b.cleanup);
    const { dir } = await fresh();
    await a.server.newSession({ name: 'same', cwd: dir, argv: ['sleep', '30'] });
    await b.server.newSession({ name: 'same', cwd: dir, argv: ['sleep', '30'] });
    await a.server.killServer();
    expect(await a.server.listPanes()).toEqual([]);
    expect(await b.server.hasSession('same')).toBe(true);
    await a.cleanup();
    expect(existsSync(a.server.socketPath())).toBe(false);
    expect(existsSync(b.server.socketPath())).toBe(true);
  });

  it('never reads the user tmux config', async () => {
    const { server, socket, dir } = await fresh();
    const home = join(dir, 'home');
    await mkdir(join(home, '.config', 'tmux'), { recursive: true });
    await writeFile(join(home, '.tmux.conf'), 'set -g @user_conf yes\n');
    await writeFile(join(home, '.config', 'tmux', 'tmux.conf'), 'set -g @user_conf yes\n');
    const homed = new TmuxServer({ socket, env: { HOME: home, XDG_CONFIG_HOME: join(home, '.config') } });
    await homed.newSession({ name: 'cfg', cwd: dir, argv: ['sleep', '30'] });
    const shown = await execa('tmux', ['-L', socket, 'show-options', '-gqv', '@user_conf'], {
      reject: false,
    });
    expect(shown.stdout.trim()).toBe('');
    expect(await server.hasSession('cfg')).toBe(true);
  });

  it('starts the server with orch config', async () => {
    const { server, socket, dir } = await fresh();
    const path = await server.ensureConfig(join(dir, 'cfg'));
    expect(server.configFile).toBe(path);
    await server.newSession({ name: 'c', cwd: dir, argv: ['sleep', '30'] });
    const opt = (name: string) =>
      execa('tmux', ['-L', socket, 'show-options', '-gv', name]).then((r) => r.stdout.trim());
    expect(await opt('history-limit')).toBe('50000');
    expect(await opt('exit-empty')).toBe('on');
    const infocmp = await execa('infocmp', ['tmux-256color'], { reject: false });
    expect(await opt('default-terminal')).toBe(infocmp.exitCode === 0 ? 'tmux-256color' : 'screen-256color');
  });
});

describe('TmuxServer screen and input', () => {
  it('sends text literally and Enter separately', async () => {
    const { server, dir } = await fresh();
    const log = join(dir, 'in.log');
    const script =
      'process.stdin.setEncoding("utf8"); let b=""; process.stdin.on("data", d => { b += d; let i; while ((i = b.indexOf("\\n")) >= 0) { console.log("GOT" + JSON.stringify(b.slice(0, i).replace(/\\r$/, ""))); b = b.slice(i + 1); } });';
    await server.newSession({ name: 'in', cwd: dir, argv: [process.execPath, '-e', script], logFile: log });
    const text = '-n Enter C-c ; #{session_name} $HOME;';
    await server.sendText('in', text);
    const out = await eventually(readLog(log), (s) => s.includes('GOT'));
    expect(out).toContain(`GOT${JSON.stringify(text)}`);
  });

  it('captures the screen, history and colours', async () => {
    const { server, dir } = await fresh();
    const script =
      'for (let i = 1; i <= 120; i++) console.log("line" + i); console.log("\\x1b[31mred\\x1b[0m");';
    await server.newSession({ name: 'cap', cwd: dir, argv: [process.execPath, '-e', script], height: 20 });
    await server.waitForExit('cap', { timeoutMs: 10_000 });
    const screen = await eventually(
      () => server.capture('cap'),
      (s) => s.includes('red'),
    );
    expect(screen).toContain('line120');
    expect(screen).not.toContain('line1\n');
    expect(screen).not.toContain('\x1b[31m');
    expect(await server.capture('cap', { lines: 500 })).toMatch(/^line1$/m);
    expect(await server.capture('cap', { escapes: true })).toContain('\x1b[31m');
  });
});

describe('waitForExit', () => {
  it('returns when the program exits, when the session is killed, and when the server dies', async () => {
    const { server, dir } = await fresh();
    await server.newSession({ name: 'w1', cwd: dir, argv: ['/bin/sh', '-c', 'sleep 0.3; exit 3'] });
    expect(await server.waitForExit('w1', { timeoutMs: 20_000 })).toMatchObject({
      dead: true,
      exitStatus: 3,
    });

    await server.newSession({ name: 'w2', cwd: dir, argv: ['sleep', '60'] });
    const killed = server.waitForExit('w2', { timeoutMs: 20_000 });
    await server.killSession('w2');
    expect(await killed).toMatchObject({ exists: false, timedOut: false });

    await server.newSession({ name: 'w3', cwd: dir, argv: ['sleep', '60'] });
    const died = server.waitForExit('w3', { timeoutMs: 20_000 });
    await eventually(
      () => server.paneState('w3'),
      (s) => s.exists,
    );
    await server.killServer();
    expect(await died).toMatchObject({ exists: false, timedOut: false });
  });

  it('wakes several waiters and is not confused by a session reused after a stale signal', async () => {
    const { server, dir } = await fresh();
    await server.newSession({ name: 'r', cwd: dir, argv: ['/bin/echo', 'x'] });
    expect(await server.waitForExit('r', { timeoutMs: 10_000 })).toMatchObject({ dead: true });
    await server.killSession('r');
    await server.newSession({ name: 'r', cwd: dir, argv: ['/bin/sh', '-c', 'sleep 0.5; exit 4'] });
    const waits = await Promise.all([1, 2, 3].map(() => server.waitForExit('r', { timeoutMs: 20_000 })));
    for (const w of waits) expect(w).toMatchObject({ dead: true, exitStatus: 4, timedOut: false });
  });

  it('gives up at the time limit or on abort while the program runs', async () => {
    const { server, dir } = await fresh();
    await server.newSession({ name: 'long', cwd: dir, argv: ['sleep', '60'] });
    expect(await server.waitForExit('long', { timeoutMs: 300 })).toMatchObject({
      exists: true,
      dead: false,
      timedOut: true,
    });
    const ac = new AbortController();
    const waiting = server.waitForExit('long', { timeoutMs: 60_000, signal: ac.signal });
    setTimeout(() => ac.abort(), 200);
    expect(await waiting).toMatchObject({ exists: true, dead: false, timedOut: true });
    // Released waiters leave nothing behind that would swallow the real exit signal.
    await server.killSession('long');
    await server.newSession({ name: 'long', cwd: dir, argv: ['/bin/sh', '-c', 'sleep 0.3; exit 5'] });
    expect(await server.waitForExit('long', { timeoutMs: 20_000 })).toMatchObject({
      dead: true,
      exitStatus: 5,
    });
  });
});

describe('under load', () => {
  it('reads every exit status back, also when no other child exits after it', async () => {
    // tmux 3.3a can miss a pane's SIGCHLD until another child of the same server exits, so the pane
    // reads dead without a status. Several servers, each running one pane at a time, make it show.
    const lane = async (l: number): Promise<(number | null)[]> => {
      const { server, dir } = await fresh();
      const got: (number | null)[] = [];
      for (let i = 0; i < 12; i++) {
        await server.newSession({ name: `p${i}`, cwd: dir, argv: ['/bin/sh', '-c', `exit ${l * 16 + i}`] });
        got.push((await server.waitForExit(`p${i}`, { timeoutMs: 20_000 })).exitStatus);
      }
      const listed = await server.listPanes('p');
      return listed.every((p) => p.dead && p.exitStatus !== null) ? got : [];
    };
    const lanes = [0, 1, 2, 3, 4, 5];
    const got = await Promise.all(lanes.map(lane));
    expect(got).toEqual(lanes.map((l) => Array.from({ length: 12 }, (_, i) => l * 16 + i)));
  });

  it('starts a session right after the previous server emptied itself', async () => {
    const { server, dir } = await fresh();
    for (let i = 0; i < 15; i++) {
      await server.newSession({ name: 'again', cwd: dir, argv: ['sleep', '30'] });
      await server.killSession('again');
    }
    await server.newSession({ name: 'again', cwd: dir, argv: ['sleep', '30'] });
    expect(await server.hasSession('again')).toBe(true);
  });
});
