#!/usr/bin/env node
// Done-detection latency: how soon the supervisor acts on a worker's signal. Half the tasks report
// with `orch task done` (signal: its `task.reported` event, then the supervisor's next event for the
// task); the other half exit with code 1 without reporting (signal: the exit wrapper's `task.exited`
// event). Retries are off so each task has one signal. `--smoke`: 2 tasks. `--json`: for run-all.mjs.
import {
  assertBuilt,
  generatedRepo,
  isolatedTmux,
  max,
  median,
  ms,
  parseFlags,
  report,
  runPlan,
} from './lib.mjs';

const flags = parseFlags();
const N = flags.smoke ? 2 : 12;

function toYaml() {
  const lines = ['request: done-detection latency', 'defaults: {agent: shell}', 'tasks:'];
  for (let i = 0; i < N; i++) {
    const id = `t${i}`;
    const reports = i % 2 === 0;
    const run = reports
      ? `mkdir -p out && echo ${id} > out/${id}.txt && git add -A && git commit -qm ${id}\norch task done --summary ok\n`
      : `echo "${id} gives up without reporting"\nexit 1\n`;
    lines.push(
      `  - id: ${id}`,
      `    files_write: [out/${id}.txt]`,
      `    verification: [{command: "test -s out/${id}.txt", type: check}]`,
      `    run: ${JSON.stringify(run)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

assertBuilt();
const repo = await generatedRepo(100, {
  'tasks.yaml': toYaml(),
  '.claude-agents.yaml': 'orchestration:\n  max_retries: 0\n',
});
const tmux = await isolatedTmux();
try {
  // Half the tasks fail on purpose, so the run fails (exit 1); anything else is a crash.
  const r = await runPlan(repo.dir, 4, tmux.env, { expect: 1 });
  const { events } = r;
  const reactions = { done: [], exit: [] };
  for (let i = 0; i < N; i++) {
    const id = `t${i}`;
    const kind = i % 2 === 0 ? 'done' : 'exit';
    const signalType = kind === 'done' ? 'task.reported' : 'task.exited';
    const at = events.findIndex((e) => e.task === id && e.type === signalType);
    // The supervisor's next decision about this task: verification, or the failure verdict.
    const next = events
      .slice(at + 1)
      .find((e) => e.task === id && (e.type === 'task.verifying' || e.type === 'task.failed'));
    if (at < 0 || !next) throw new Error(`task ${id}: no ${signalType} followed by a verdict in the journal`);
    reactions[kind].push(next.t - events[at].t);
  }
  const rows = [
    {
      metric: `done detection: \`orch task done\` → supervisor's next event, median / worst of ${reactions.done.length}`,
      measured: `${ms(median(reactions.done))} / ${ms(max(reactions.done))}`,
      goal: '< 1 s',
    },
    {
      metric: `exit detection: worker exits without reporting → verdict, median / worst of ${reactions.exit.length}`,
      measured: `${ms(median(reactions.exit))} / ${ms(max(reactions.exit))}`,
      goal: '< 1 s',
    },
  ];
  report('done-detection latency', rows, flags);
} finally {
  await tmux.cleanup();
  await repo.cleanup();
}
