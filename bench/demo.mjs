#!/usr/bin/env node
// `orch demo` end to end (temporary folder, plain output): wall time against the 60 s goal, and the
// tasks, attempts and outcome from its JSON summary. No smoke case: the demo is one fixed size.
import { assertBuilt, isolatedTmux, parseFlags, report, runOrch, sec } from './lib.mjs';

const flags = parseFlags();
assertBuilt();
const tmux = await isolatedTmux();
try {
  const r = await runOrch(['demo', '--no-tui', '--json'], { cwd: process.cwd(), env: tmux.env });
  if (r.code !== 0) throw new Error(`orch demo exited ${r.code}:\n${r.stderr}\n${r.stdout.slice(-2000)}`);
  const s = JSON.parse(r.stdout);
  report(
    'orch demo',
    [
      {
        metric: `\`orch demo\`: ${s.tasks} tasks, ${s.attempts} attempts (one boundary rejection), ${s.outcome}, whole process`,
        measured: sec(r.wallMs / 1000),
        goal: '< 60 s',
      },
    ],
    flags,
  );
} finally {
  await tmux.cleanup();
}
