import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { currentRun, isolatedTmux, runOrch, tempRepo, type TempRepo } from '@orch/test-utils';

const PLAN = `request: a question, then done
tasks:
  - id: ui
    agent: shell
    files_write: [src/ui.txt]
    verification: [{ command: "test -s src/ui.txt" }]
    run: |
      orch mailbox send supervisor 'light or dark? $(touch pwned)' --type needs-decision
      mkdir -p src && echo ui > src/ui.txt
      git add -A && git commit -qm ui && orch task done --summary ui
`;

/** Appends each notice it gets on stdin to notices.jsonl, outside the repository's tracked files. */
const RECORDER = '#!/bin/sh\ncat >> "$(dirname "$0")/notices.jsonl"\n';

describe('notifications in a real run', () => {
  let repo: TempRepo;
  let tmux: Awaited<ReturnType<typeof isolatedTmux>>;
  beforeEach(async () => {
    repo = await tempRepo({
      'tasks.yaml': PLAN,
      '.gitignore': '.orchestrator/\n.worktrees/\nnotify/notices.jsonl\n',
      'notify/record.sh': RECORDER,
      'orch.yaml':
        'workers:\n  sandbox: "off"\nnotify:\n  command: [sh, notify/record.sh]\n  desktop: false\n',
    });
    tmux = await isolatedTmux();
  });
  afterEach(async () => {
    await tmux.cleanup();
    await repo.cleanup();
  });

  it('runs notify.command with the needs-decision and the finish as JSON on stdin, once each', async () => {
    const r = await runOrch(['run', '--no-tui', '--yes'], {
      cwd: repo.root,
      env: tmux.env,
      timeoutMs: 120_000,
    });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const read = async (): Promise<
      { kind: string; task?: string; message: string; event: { type: string } }[]
    > =>
      (await readFile(join(repo.root, 'notify', 'notices.jsonl'), 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map(
          (l) => JSON.parse(l) as { kind: string; task?: string; message: string; event: { type: string } },
        );
    const notices = await read();
    expect(notices.map((n) => [n.kind, n.task])).toEqual([
      ['needs-decision', 'ui'],
      ['finished', undefined],
    ]);
    expect(notices[0]!.message).toBe('light or dark? $(touch pwned)');
    expect(notices[1]!.event.type).toBe('run.finished');
    expect(existsSync(join(repo.root, 'pwned'))).toBe(false);
    // Marked delivered in the run folder, so a restarted supervisor stays quiet (see engine/test/notify.test.ts).
    const marks = await readFile(
      join(repo.root, '.orchestrator', 'runs', await currentRun(repo.root), 'notified.jsonl'),
      'utf8',
    );
    expect(marks.trim().split('\n')).toHaveLength(2);
  });
});
