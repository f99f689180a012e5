import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { currentRun, isolatedTmuxEach, spawnOrch, tempRepo, type TempRepo } from '@orch/test-utils';

async function waitFor(file: string): Promise<void> {
  for (let i = 0; i < 1200 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 100));
  if (!existsSync(file)) throw new Error(`${file} never appeared`);
}

/** Every process's command line that holds `needle` (processes that end meanwhile are skipped). */
async function argvsHolding(needle: string): Promise<string[]> {
  const out: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const argv = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (argv.includes(needle)) out.push(`${pid}: ${argv.replaceAll('\0', ' ')}`);
  }
  return out;
}

describe('worker environment', () => {
  let repo: TempRepo;
  const tmux = isolatedTmuxEach(() => repo);

  it('gets the allow-list only, never the calling session identity, and no secret is on any argv', async () => {
    const secret = `sk-orch-${process.pid}-${Date.now()}-secret`;
    repo = await tempRepo({
      'tasks.yaml': `tasks:
  - id: env
    agent: shell
    files_write: [out/env.txt]
    verification: [{ command: "test -s out/env.txt" }]
    run: |
      mkdir -p out
      env | sort > out/env.txt
      touch started
      while [ ! -e release ]; do sleep 0.1; done
      rm -f started release
      git add out && git commit -qm env && orch task done --summary env
`,
      '.claude-agents.yaml': 'workers:\n  env_passthrough: [ORCH_TEST_EXTRA]\n',
      '.gitignore': 'started\nrelease\n',
    });
    const child = spawnOrch(['run', '--no-tui', '--yes', '--no-promote'], {
      cwd: repo.root,
      env: {
        ...tmux.env,
        ANTHROPIC_API_KEY: secret,
        CLAUDECODE: '1',
        CLAUDE_CODE_SESSION_ID: 'parent-session',
        CLAUDE_CODE_CHILD_SESSION: '1',
        CLAUDE_CODE_MESSAGING_SOCKET: '/tmp/cc-socks/0.sock',
        ORCH_TEST_EXTRA: 'extra-value',
        ORCH_TEST_OTHER: 'not-allowed',
        TMUX: '/tmp/tmux-0/default,1,0',
        TMUX_PANE: '%9',
      },
    });
    const worktree = join(repo.root, '.worktrees', 'env');
    await waitFor(join(worktree, 'started'));
    // While the worker runs: neither tmux's server nor any other process shows the key.
    expect(await argvsHolding(secret)).toEqual([]);
    await writeFile(join(worktree, 'release'), '');
    const r = await child;
    expect(r.exitCode, String(r.stdout)).toBe(0);

    const run = await currentRun(repo.root);
    const lines = (await repo.git('show', `orch/${run}/staging:out/env.txt`)).split('\n');
    const env = new Map(lines.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    expect(env.get('ANTHROPIC_API_KEY')).toBe(secret);
    expect(env.get('ORCH_TEST_EXTRA')).toBe('extra-value');
    expect(env.get('ORCH_TASK')).toBe('env');
    for (const k of [
      'CLAUDECODE',
      'CLAUDE_CODE_SESSION_ID',
      'CLAUDE_CODE_CHILD_SESSION',
      'CLAUDE_CODE_MESSAGING_SOCKET',
      'ORCH_TEST_OTHER',
      'TMUX',
      'TMUX_PANE',
      'TMUX_TMPDIR',
    ])
      expect(env.has(k), k).toBe(false);
  });
});
