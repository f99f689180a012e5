/**
 * The bubblewrap command line around a worker's agent. Pure: every path comes in the layout, which
 * the supervisor fills in (see `sandbox.ts`) and the `_exec` wrapper turns into argv.
 *
 * bwrap applies its mounts in order, so later entries cut holes into earlier ones: the whole
 * filesystem read-only, then a private /tmp (which also hides every tmux socket), then the
 * repository read-only again (it may itself live under /tmp), then `.orchestrator/` hidden, then
 * the few places the task may write.
 */

export interface SandboxLayout {
  /** The main worktree (the user's checkout): read-only. */
  repoRoot: string;
  /** git's common dir (`<repo>/.git`): read-only but for `objects/`. */
  commonDir: string;
  /** The task's worktree: read-write. */
  worktree: string;
  /** The task's worktree admin dir (`<commonDir>/worktrees/<name>`): read-write. */
  worktreeGitDir: string;
  /** `<commonDir>/refs/heads/orch/<run>/<task>` and its reflog folder: read-write. */
  refDir: string;
  logDir: string;
  /** `<repo>/.orchestrator`: hidden. */
  orchDir: string;
  /** The task's channel folder inside `.orchestrator/`: read-write. */
  channelDir: string;
  /** Folders inside `.orchestrator/` the worker must read (the `orch` shim): read-only. */
  orchReadable: string[];
  /** The agent CLIs' own state (e.g. `~/.claude`, `~/.claude.json`): read-write when present. */
  writable: string[];
  /** Folders to hide outside /tmp (e.g. a tmux socket folder under `$TMUX_TMPDIR`). */
  hidden: string[];
  /** Programs the worker runs (orch's own package, Node.js): read-only, also when under /tmp. */
  programs: string[];
  /** Files the worker reads also when under a hidden folder or /tmp (a host's git identity): read-only. */
  readable?: string[];
  /** Files shown empty (a host's password file), wherever they are. */
  hiddenFiles?: string[];
  cwd: string;
}

export function sandboxArgv(l: SandboxLayout, argv: readonly string[], bwrap = 'bwrap'): string[] {
  const a: string[] = [bwrap, '--die-with-parent', '--new-session', '--unshare-pid'];
  a.push('--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp');
  // An orch (or Node.js) installed under /tmp would vanish with it, and `orch task done` with it.
  for (const p of l.programs) a.push('--ro-bind-try', p, p);
  for (const p of l.hidden) a.push('--tmpfs', p);
  for (const p of l.readable ?? []) a.push('--ro-bind-try', p, p);
  a.push('--ro-bind', l.repoRoot, l.repoRoot);
  if (!within(l.commonDir, l.repoRoot)) a.push('--ro-bind', l.commonDir, l.commonDir);
  a.push('--tmpfs', l.orchDir);
  for (const p of l.orchReadable) a.push('--ro-bind', p, p);
  a.push('--bind', l.channelDir, l.channelDir);
  // The tmpfs itself read-only: a write to e.g. the journal's path fails instead of landing unseen.
  a.push('--remount-ro', l.orchDir);
  a.push('--bind', l.worktree, l.worktree);
  // The worktree's `.git` link, the admin dir's back-links and its HEAD stay as orch made them:
  // rewritten, they would point orch's own git commands in this worktree (leftovers commit,
  // verification) at a repository the worker forged, or at the user's branch. The worker still
  // commits, amends and resets on its branch; it cannot switch its worktree to another one.
  a.push('--ro-bind', `${l.worktree}/.git`, `${l.worktree}/.git`);
  a.push('--bind', `${l.commonDir}/objects`, `${l.commonDir}/objects`);
  a.push('--bind', l.worktreeGitDir, l.worktreeGitDir);
  for (const f of ['HEAD', 'commondir', 'gitdir', 'config.worktree'])
    a.push('--ro-bind-try', `${l.worktreeGitDir}/${f}`, `${l.worktreeGitDir}/${f}`);
  a.push('--bind', l.refDir, l.refDir, '--bind', l.logDir, l.logDir);
  for (const p of l.writable) a.push('--bind-try', p, p);
  // Last, so that no bind above shows them again.
  for (const p of l.hiddenFiles ?? []) a.push('--ro-bind', '/dev/null', p);
  a.push('--chdir', l.cwd, '--', ...argv);
  return a;
}

function within(p: string, dir: string): boolean {
  return p === dir || p.startsWith(`${dir}/`);
}
