import { describe, expect, it } from 'vitest';
import { sandboxArgv, type SandboxLayout } from '../src/worker/sandbox-args.js';

const layout: SandboxLayout = {
  repoRoot: '/r',
  commonDir: '/r/.git',
  worktree: '/r/.worktrees/api',
  worktreeGitDir: '/r/.git/worktrees/api',
  refDir: '/r/.git/refs/heads/orch/run1/api',
  logDir: '/r/.git/logs/refs/heads/orch/run1/api',
  orchDir: '/r/.orchestrator',
  channelDir: '/r/.orchestrator/runs/run1/tasks/api',
  orchReadable: ['/r/.orchestrator/bin'],
  writable: ['/home/u/.claude', '/home/u/.claude.json'],
  hidden: [],
  programs: ['/tmp/prefix/lib/node_modules/orch', '/usr/bin'],
  cwd: '/r/.worktrees/api',
};

/** The argv as (option, operands…) groups, e.g. ['--bind', '/a', '/a']. */
function mounts(argv: string[]): string[][] {
  const arity: Record<string, number> = {
    '--ro-bind': 2,
    '--ro-bind-try': 2,
    '--bind': 2,
    '--bind-try': 2,
    '--tmpfs': 1,
    '--dev': 1,
    '--proc': 1,
    '--remount-ro': 1,
    '--chdir': 1,
  };
  const out: string[][] = [];
  for (let i = 1; i < argv.length && argv[i] !== '--';) {
    const n = arity[argv[i]!] ?? 0;
    out.push(argv.slice(i, i + 1 + n));
    i += 1 + n;
  }
  return out;
}

describe('sandboxArgv', () => {
  const argv = sandboxArgv(layout, ['bash', '-c', 'echo hi']);
  const m = mounts(argv);
  const at = (...g: string[]): number => m.findIndex((x) => x.join(' ') === g.join(' '));

  it('keeps orch and Node.js visible, read-only, when they are installed under the private /tmp', () => {
    const tmp = at('--tmpfs', '/tmp');
    const pkg = at('--ro-bind-try', layout.programs[0]!, layout.programs[0]!);
    expect(tmp).toBeGreaterThan(0);
    expect(pkg).toBeGreaterThan(tmp);
    expect(at('--ro-bind-try', '/usr/bin', '/usr/bin')).toBeGreaterThan(tmp);
    expect(m.some((x) => x[0] === '--bind' && x[1] === layout.programs[0])).toBe(false);
  });

  it('runs the agent last, in its worktree, with pid isolation, no tty, and the network kept', () => {
    expect(argv[0]).toBe('bwrap');
    expect(argv.slice(argv.indexOf('--'))).toEqual(['--', 'bash', '-c', 'echo hi']);
    expect(at('--chdir', '/r/.worktrees/api')).toBeGreaterThan(0);
    for (const f of ['--die-with-parent', '--new-session', '--unshare-pid']) expect(argv).toContain(f);
    expect(argv.filter((a) => a.startsWith('--unshare-')).sort()).toEqual(['--unshare-pid']);
  });

  it('makes everything read-only, then opens exactly the task’s own places, in that order', () => {
    const root = at('--ro-bind', '/', '/');
    const tmp = at('--tmpfs', '/tmp');
    const repo = at('--ro-bind', '/r', '/r');
    const orch = at('--tmpfs', '/r/.orchestrator');
    const channel = at('--bind', layout.channelDir, layout.channelDir);
    const ro = at('--remount-ro', '/r/.orchestrator');
    expect(root).toBe(m.findIndex((x) => /bind|tmpfs/.test(x[0]!)));
    expect(
      [root, tmp, repo, orch, channel, ro].every((x, i, a) => x >= 0 && (i === 0 || x > a[i - 1]!)),
    ).toBe(true);
    expect(at('--ro-bind', '/r/.orchestrator/bin', '/r/.orchestrator/bin')).toBeGreaterThan(orch);
    for (const p of [layout.worktree, '/r/.git/objects', layout.worktreeGitDir, layout.refDir, layout.logDir])
      expect(at('--bind', p, p), p).toBeGreaterThan(repo);
    for (const p of layout.writable) expect(at('--bind-try', p, p), p).toBeGreaterThan(repo);
    // The links git follows out of the worktree stay as orch made them.
    const link = at('--ro-bind', '/r/.worktrees/api/.git', '/r/.worktrees/api/.git');
    expect(link).toBeGreaterThan(at('--bind', layout.worktree, layout.worktree));
    for (const f of ['HEAD', 'commondir', 'gitdir']) {
      const back = `/r/.git/worktrees/api/${f}`;
      expect(at('--ro-bind-try', back, back), f).toBeGreaterThan(
        at('--bind', layout.worktreeGitDir, layout.worktreeGitDir),
      );
    }
    // Nothing else of git is writable: not the ref folder of staging, not the config, not hooks.
    const writable = m.filter((x) => x[0] === '--bind' || x[0] === '--bind-try').map((x) => x[1]);
    expect(writable.sort()).toEqual(
      [
        layout.channelDir,
        layout.worktree,
        '/r/.git/objects',
        layout.worktreeGitDir,
        layout.refDir,
        layout.logDir,
        ...layout.writable,
      ].sort(),
    );
  });

  it('re-exposes a git dir outside the repository read-only and hides extra socket folders', () => {
    const other = sandboxArgv({ ...layout, commonDir: '/srv/git/r.git', hidden: ['/run/user/0/tmux'] }, [
      'true',
    ]);
    const g = mounts(other);
    expect(g).toContainEqual(['--ro-bind', '/srv/git/r.git', '/srv/git/r.git']);
    expect(g).toContainEqual(['--bind', '/srv/git/r.git/objects', '/srv/git/r.git/objects']);
    expect(g).toContainEqual(['--tmpfs', '/run/user/0/tmux']);
    expect(mounts(argv)).not.toContainEqual(['--ro-bind', '/r/.git', '/r/.git']);
  });
});
