import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Config, type RunEvent } from '@orch/core';
import { NOTIFIED_FILE, Notifier, desktopCommand, type NotifierOptions } from '../src/supervisor/notify.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'orch-notify-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ts = '2026-01-01T00:00:00.000Z';
const events: RunEvent[] = [
  { type: 'task.progress', task: 'api', ts, message: 'half way' },
  { type: 'task.attention', task: 'api', ts, reason: 'REST or GraphQL? $(touch pwned) `touch pwned2`' },
  { type: 'task.blocked', task: 'ui', ts, reason: 'dependency request', needs: 'zod@4' },
  { type: 'task.blocked', task: 'ui', ts: '2026-01-01T00:00:01.000Z', reason: 'waits', on: 'api' },
  { type: 'run.finished', ts, outcome: 'needs_attention', reason: 'review iterations exhausted' },
];

/** A notification command that appends what it gets on stdin to a file, one JSON line per call. */
async function recorder(): Promise<{ script: string; calls: () => Promise<Record<string, unknown>[]> }> {
  const out = join(dir, 'calls.jsonl');
  const script = join(dir, 'record.sh');
  await writeFile(script, `#!/bin/sh\ncat >> "${out}"\n`);
  await chmod(script, 0o755);
  const calls = async (): Promise<Record<string, unknown>[]> =>
    existsSync(out)
      ? (await readFile(out, 'utf8'))
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Record<string, unknown>)
      : [];
  return { script, calls };
}

function notifier(command: string | string[], extra: Partial<NotifierOptions> = {}): Notifier {
  const config = Config.parse({ notify: { command, desktop: false } }).notify;
  return new Notifier({ runDir: dir, run: 'r1', repoRoot: dir, config, ...extra });
}

describe('Notifier', () => {
  it('runs notify.command once per event that needs a person or ends the run, with the notice as JSON on stdin', async () => {
    const { script, calls } = await recorder();
    const n = notifier([script]);
    n.handle(events);
    await n.idle();
    const got = await calls();
    expect(got.map((c) => [c.kind, c.task])).toEqual([
      ['needs-decision', 'api'],
      ['dependency-request', 'ui'],
      ['escalation', undefined],
    ]);
    expect(got[1]).toMatchObject({
      run: 'r1',
      message: 'zod@4',
      event: { type: 'task.blocked', needs: 'zod@4' },
    });
    expect(got[0]!.hint).toContain('orch mailbox send api');
  });

  it('never repeats a notice: the same events again, or to a notifier of a restarted supervisor, run nothing', async () => {
    const { script, calls } = await recorder();
    const first = notifier([script]);
    first.handle(events);
    first.handle(events);
    await first.idle();
    const restarted = notifier([script]);
    restarted.handle(events);
    await restarted.idle();
    expect(await calls()).toHaveLength(3);
    expect((await readFile(join(dir, NOTIFIED_FILE), 'utf8')).trim().split('\n')).toHaveLength(3);
  });

  it('runs a string command with the shell as written; the event data stays on stdin, never in the command line', async () => {
    const { script, calls } = await recorder();
    const n = notifier(`"${script}" && echo ran >> "${join(dir, 'shell.txt')}"`);
    n.handle([events[1]!]);
    await n.idle();
    expect(await readFile(join(dir, 'shell.txt'), 'utf8')).toBe('ran\n');
    expect((await calls())[0]!.message).toContain('$(touch pwned)');
    expect(existsSync(join(dir, 'pwned'))).toBe(false);
    expect(existsSync(join(dir, 'pwned2'))).toBe(false);
  });

  it('shows a desktop notification with title and message as arguments, when turned on', async () => {
    const seen: { file: string; args: string[] }[] = [];
    const config = Config.parse({}).notify;
    const n = new Notifier({
      runDir: dir,
      run: 'r1',
      repoRoot: dir,
      config,
      desktop: (title, message) => ({ file: 'notify-send', args: [title, message] }),
      spawn: async (p) => {
        seen.push({ file: p.file, args: p.args });
      },
    });
    n.handle(events);
    await n.idle();
    expect(seen).toEqual([
      {
        file: 'notify-send',
        args: ['orch: api needs a decision', 'REST or GraphQL? $(touch pwned) `touch pwned2`'],
      },
      { file: 'notify-send', args: ['orch: ui asks for a dependency', 'zod@4'] },
      { file: 'notify-send', args: ['orch: run r1 needs you', 'review iterations exhausted'] },
    ]);
  });

  it('finds notify-send on Linux and osascript on macOS on PATH, with the texts as arguments of a fixed script', async () => {
    for (const name of ['notify-send', 'osascript']) {
      await writeFile(join(dir, name), '#!/bin/sh\n');
      await chmod(join(dir, name), 0o755);
    }
    const env = { PATH: dir };
    expect(desktopCommand('t "x"', 'm', env, 'linux')).toEqual({
      file: 'notify-send',
      args: ['--app-name=orch', '--', 't "x"', 'm'],
    });
    const mac = desktopCommand('t "x"', 'm', env, 'darwin')!;
    expect(mac.file).toBe('osascript');
    expect(mac.args.slice(-2)).toEqual(['t "x"', 'm']);
    expect(mac.args.slice(0, -2).join(' ')).not.toContain('t "x"');
    expect(desktopCommand('t', 'm', { PATH: join(dir, 'none') }, 'linux')).toBeUndefined();
  });
});
