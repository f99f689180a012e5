import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { renderConfig, defaultTerminal, writeConfig } from '../src/config.js';
import { assertTmux, parseTmuxVersion, tmuxVersion } from '../src/version.js';

const dirs: string[] = [];
afterEach(async () => {
  while (dirs.length) await rm(dirs.pop()!, { recursive: true, force: true });
});

describe('config', () => {
  it('renders history, exit-empty and the terminal', () => {
    const text = renderConfig({ terminal: 'screen-256color', historyLimit: 1234 });
    expect(text).toContain('set-option -g history-limit 1234');
    expect(text).toContain('set-option -g exit-empty on');
    expect(text).toContain('set-option -g default-terminal "screen-256color"');
  });

  it('falls back to screen-256color exactly when infocmp lacks tmux-256color', async () => {
    const probe = await execa('infocmp', ['tmux-256color'], { reject: false });
    expect(await defaultTerminal()).toBe(probe.exitCode === 0 ? 'tmux-256color' : 'screen-256color');
  });

  it('writes the file once and leaves an unchanged file alone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'orch-tmux-cfg-'));
    dirs.push(dir);
    const path = await writeConfig(join(dir, 'nested'));
    const first = await stat(path);
    expect(await readFile(path, 'utf8')).toContain('history-limit 50000');
    expect(await writeConfig(join(dir, 'nested'))).toBe(path);
    expect((await stat(path)).ino).toBe(first.ino);
  });
});

describe('version', () => {
  it('reports the installed tmux and accepts it', async () => {
    const v = await tmuxVersion();
    expect(v).toMatch(/\d+\.\d+/);
    expect(await assertTmux()).toBe(v);
  });

  it('parses release and development versions', () => {
    expect(parseTmuxVersion('3.3a')).toEqual({ major: 3, minor: 3 });
    expect(parseTmuxVersion('next-3.5')).toEqual({ major: 3, minor: 5 });
    expect(parseTmuxVersion('master')).toBeNull();
  });
});
