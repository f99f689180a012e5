/**
 * The files `orch init` writes: a commented config and a sample plan, filled in with what was
 * detected in the repository (its package manager and test command). Pure text; writing is the
 * engine's. Both start with the modeline that points editors at orch's JSON Schemas.
 */
import { schemaModeline } from '../json-schema.js';

export interface StarterFacts {
  /** The detected test command (`pnpm test`, `cargo test`, …). */
  test?: string;
  /** The Node package manager, from the lockfile. */
  packageManager?: string;
  /** orch's version, for the schema URLs. */
  version: string;
}

/** A YAML scalar for any string: JSON's double-quoted form is valid YAML. */
const yamlString = (s: string): string => JSON.stringify(s);

export function starterConfig(f: StarterFacts): string {
  const detected = [
    f.packageManager ? `package manager ${f.packageManager}` : undefined,
    f.test ? `tests \`${f.test}\`` : 'no test command',
  ].filter((x) => x !== undefined);
  const integration = f.test
    ? `  integration_command: ${yamlString(f.test)} # run on staging after every merge`
    : '  # integration_command: "make test" # run on staging after every merge (none was detected)';
  return [
    schemaModeline('config', f.version),
    "# orch's configuration for this repository, written by `orch init`. Every key is optional and",
    '# the values below are the defaults unless noted; `orch config` prints the effective values and',
    '# where each came from. All keys: docs/configuration.md, or `orch schema config`.',
    `# Detected: ${detected.join(', ')}.`,
    '',
    'orchestration:',
    '  max_parallel_workers: 5 # workers at once (orch run --max-workers overrides)',
    '  # verify_lanes: 2 # checks at once, beside the workers (default: the cores of this machine)',
    '  max_retries: 2 # failed attempts retried per task',
    '  task_timeout: 1800 # seconds a worker may run',
    '',
    'agents:',
    '  default: claude # claude | codex | gemini | aider | command | shell',
    '',
    'workers:',
    '  sandbox: auto # auto | on | off: the OS sandbox around each worker',
    '',
    'worktree:',
    '  # Dependencies of each task worktree: auto | install | off | a shell command.',
    `  install: auto${f.packageManager ? ` # ${f.packageManager}, from its lockfile` : ''}`,
    '  copy: [] # untracked files each worktree gets a copy of, e.g. [.env]',
    '',
    'verification:',
    integration,
    '',
    'merge:',
    '  strategy: squash # squash | merge',
    '',
    'notify:',
    '  # Run when a run needs you or finishes, with the event as JSON on stdin.',
    '  # command: ["./scripts/notify.sh"]',
    '  desktop: true # notify-send / osascript, where available',
    '  bell: true # a terminal bell in the dashboard',
    '',
  ].join('\n');
}

export function starterPlan(f: StarterFacts): string {
  const check = f.test
    ? [`      - command: ${yamlString(f.test)}`, '        type: test']
    : ['      - command: "test -s docs/overview.md"', '        type: check'];
  return [
    schemaModeline('plan', f.version),
    '# A sample plan, written by `orch init`: replace the tasks with your own, check it with',
    '# `orch plan check`, then start it with `orch run`. Or let the planner write one:',
    '# `orch plan "what you want done"`. Every field: docs/tasks-yaml.md.',
    'request: describe what this run should achieve',
    'tasks:',
    '  - id: overview',
    '    description: >-',
    '      Write docs/overview.md: what this repository is, how to build it and how to run its tests.',
    '    # Only these files may change in this task; no two tasks that run at once share one.',
    '    files_write: [docs/overview.md]',
    '    files_read: [README.md]',
    '    verification:',
    ...check,
    '  - id: contributing',
    '    description: Write CONTRIBUTING.md, linking to docs/overview.md.',
    '    files_write: [CONTRIBUTING.md]',
    '    depends_on: [overview] # starts once overview is merged',
    '    verification:',
    '      - command: "test -s CONTRIBUTING.md"',
    '        type: check',
    '',
  ].join('\n');
}
