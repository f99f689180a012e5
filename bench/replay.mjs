#!/usr/bin/env node
// Real-suite throughput (`pnpm bench:replay`): a generated JavaScript library with a real
// `node --test` suite, and a plan of 8 tasks in 3 waves that each add or change real source and
// tests. Compares `orch run` (shell workers that write the change, verified by the suite) with the
// same changes applied one after another, each followed by one test run and a commit, in a clone of
// the same repository, on the same machine, alternating, several rounds. Reports medians, the ratio
// and orch's overhead per task by phase (from the journal).
// Also each phase's p50 / p95 / worst, the merge batch sizes seen and the orchestrator's peak memory.
// `--deps`: instead, the library's dependency step: a new worktree's node_modules installed from its
// lockfile, copied from another worktree made for the same lockfile, or copied from the checkout.
// `--smoke`: one round of 3 of the tasks (2 waves) with a lighter suite. `--json`: one JSON line for
// run-all.mjs.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  assertBuilt,
  batchSizes,
  generatedRepo,
  git,
  isolatedTmux,
  median,
  parseFlags,
  phaseTimes,
  report,
  root,
  sec,
  spread,
  runPlan,
} from './lib.mjs';

const flags = parseFlags();
const DEPS = process.argv.includes('--deps');
const ROUNDS = flags.smoke ? 1 : 3;
const WORKERS = 4;

/** Work a test does: a deterministic loop, so the suite costs real CPU, not sleeps. */
const WORK = flags.smoke ? 250_000 : 2_500_000;

const testFile = (mod, fn, cases) => `import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ${fn} } from '../src/${mod}.js';

test('${fn}: cases', () => {
${cases.map(([input, out]) => `  assert.deepEqual(${fn}(${input}), ${out});`).join('\n')}
});

test('${fn}: stays total over many inputs', () => {
  let h = 0;
  for (let i = 0; i < ${WORK}; i++) h = (h * 31 + i) | 0;
  for (let i = 0; i < 200; i++) ${fn}(${JSON.stringify('x')}.repeat(i % 17) + String(h + i));
});
`;

/** The library before any task: two modules with their tests. */
const baseFiles = {
  'package.json': `${JSON.stringify(
    { name: 'textkit', version: '1.0.0', type: 'module', private: true, scripts: { test: 'node --test' } },
    null,
    2,
  )}\n`,
  'src/trim.js': `export function trim(s) {\n  return String(s).replace(/^\\s+|\\s+$/g, '');\n}\n`,
  'src/lower.js': `export function lower(s) {\n  return String(s).toLowerCase();\n}\n`,
  'test/trim.test.js': testFile('trim', 'trim', [
    ["'  a '", "'a'"],
    ["''", "''"],
  ]),
  'test/lower.test.js': testFile('lower', 'lower', [["'AbC'", "'abc'"]]),
};

/** 8 tasks in 3 waves. Each writes its own module and test (exclusive ownership). */
const allTasks = [
  {
    id: 'slug',
    deps: [],
    files: {
      'src/slug.js': `import { lower } from './lower.js';\nimport { trim } from './trim.js';\nexport function slug(s) {\n  return lower(trim(s)).replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');\n}\n`,
      'test/slug.test.js': testFile('slug', 'slug', [
        ["' Hello World '", "'hello-world'"],
        ["'a--b'", "'a-b'"],
      ]),
    },
  },
  {
    id: 'pad',
    deps: [],
    files: {
      'src/pad.js': `export function pad(s, n = 8) {\n  const t = String(s);\n  return t.length >= n ? t : t + ' '.repeat(n - t.length);\n}\n`,
      'test/pad.test.js': testFile('pad', 'pad', [
        ["'ab', 4", "'ab  '"],
        ["'abcdef', 2", "'abcdef'"],
      ]),
    },
  },
  {
    id: 'words',
    deps: [],
    files: {
      'src/words.js': `import { trim } from './trim.js';\nexport function words(s) {\n  const t = trim(s);\n  return t ? t.split(/\\s+/) : [];\n}\n`,
      'test/words.test.js': testFile('words', 'words', [
        ["' a  b c '", "['a', 'b', 'c']"],
        ["''", '[]'],
      ]),
    },
  },
  {
    id: 'count',
    deps: [],
    files: {
      'src/count.js': `export function count(s, ch = ' ') {\n  let n = 0;\n  for (const c of String(s)) if (c === ch) n++;\n  return n;\n}\n`,
      'test/count.test.js': testFile('count', 'count', [
        ["'a b c'", '2'],
        ["'abc', 'b'", '1'],
      ]),
    },
  },
  {
    id: 'title',
    deps: ['words'],
    files: {
      'src/title.js': `import { words } from './words.js';\nexport function title(s) {\n  return words(s).map((w) => w[0].toUpperCase() + w.slice(1)).join(' ');\n}\n`,
      'test/title.test.js': testFile('title', 'title', [["' hello  world'", "'Hello World'"]]),
    },
  },
  {
    id: 'table',
    deps: ['pad', 'words'],
    files: {
      'src/table.js': `import { pad } from './pad.js';\nimport { words } from './words.js';\nexport function table(s, n = 6) {\n  return words(s).map((w) => pad(w, n)).join('|');\n}\n`,
      'test/table.test.js': testFile('table', 'table', [["'a bb', 3", "'a  |bb '"]]),
    },
  },
  {
    id: 'stats',
    deps: ['count', 'words'],
    files: {
      'src/stats.js': `import { count } from './count.js';\nimport { words } from './words.js';\nexport function stats(s) {\n  return { words: words(s).length, spaces: count(s) };\n}\n`,
      'test/stats.test.js': testFile('stats', 'stats', [["'a b c'", '{ words: 3, spaces: 2 }']]),
    },
  },
  {
    id: 'index',
    deps: ['slug', 'title', 'table', 'stats'],
    files: {
      'src/index.js': ['count', 'lower', 'pad', 'slug', 'stats', 'table', 'title', 'trim', 'words']
        .map((m) => `export { ${m} } from './${m}.js';`)
        .join('\n')
        .concat('\n'),
      'test/index.test.js': testFile('index', 'slug', [["'A B'", "'a-b'"]]),
    },
  },
];

/** --smoke: two waves of the plan, closed under dependencies. */
const SMOKE = ['pad', 'words', 'title'];
const tasks = flags.smoke ? allTasks.filter((t) => SMOKE.includes(t.id)) : allTasks;
const WAVES = flags.smoke ? 2 : 3;

/** The shell script a worker runs: write the task's files, commit, report. */
function runScript(t) {
  const parts = [];
  for (const [path, content] of Object.entries(t.files)) {
    parts.push(`mkdir -p ${dirname(path)}`, `cat > ${path} <<'ORCH_EOF'\n${content}ORCH_EOF`);
  }
  parts.push(`git add -A && git commit -qm ${t.id}`, 'orch task done --summary ok');
  return `${parts.join('\n')}\n`;
}

function planYaml() {
  const q = (s) => JSON.stringify(s);
  const lines = ['request: real-suite replay benchmark', 'defaults: {agent: shell}', 'tasks:'];
  for (const t of tasks) {
    lines.push(
      `  - id: ${t.id}`,
      `    description: ${q(`add ${t.id}`)}`,
      `    depends_on: [${t.deps.join(', ')}]`,
      `    files_write: [${Object.keys(t.files).map(q).join(', ')}]`,
      `    verification: [{command: "node --test", type: test}]`,
      `    run: ${q(runScript(t))}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** The same changes, one after another in dependency order, each followed by the suite and a commit. */
function sequential(dir) {
  const t0 = performance.now();
  for (const t of tasks) {
    for (const [path, content] of Object.entries(t.files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), content);
    }
    execFileSync('npm', ['test', '--silent'], { cwd: dir, stdio: 'ignore' });
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', t.id);
  }
  return (performance.now() - t0) / 1000;
}

async function orchRound() {
  const repo = await generatedRepo(0, { ...baseFiles, 'tasks.yaml': planYaml() });
  const tmux = await isolatedTmux();
  try {
    const r = await runPlan(repo.dir, WORKERS, tmux.env);
    const { events } = r;
    const merged = events.filter((e) => e.type === 'task.merged');
    if (merged.length !== tasks.length)
      throw new Error(`only ${merged.length} of ${tasks.length} tasks merged`);
    const ids = tasks.map((t) => t.id);
    const phase = (from, to) => phaseTimes(events, ids, from, to);
    return {
      wall: r.wallMs / 1000,
      readyToStarted: phase('task.ready', 'task.started'),
      startedToDone: phase('task.started', 'task.reported'),
      doneToVerified: phase('task.reported', 'task.verified'),
      verifiedToMerged: phase('task.verified', 'task.merged'),
      doneToMerged: phase('task.reported', 'task.merged'),
      batches: batchSizes(events),
      peakKb: r.peakKb,
    };
  } finally {
    await tmux.cleanup();
    await repo.cleanup();
  }
}

async function sequentialRound() {
  const repo = await generatedRepo(0, baseFiles);
  try {
    return sequential(repo.dir);
  } finally {
    await repo.cleanup();
  }
}

/** A package of `files` small modules, packed as npm packs it, for the library to depend on offline. */
function vendorPackage(dir, version, files) {
  const pkg = join(dir, 'vendor-src', 'package');
  mkdirSync(join(pkg, 'lib'), { recursive: true });
  writeFileSync(
    join(pkg, 'package.json'),
    JSON.stringify({ name: 'textkit-data', version, main: 'index.js' }),
  );
  writeFileSync(join(pkg, 'index.js'), `module.exports = { version: '${version}' };\n`);
  for (let i = 0; i < files; i++) writeFileSync(join(pkg, 'lib', `m${i}.js`), `module.exports = ${i};\n`);
  mkdirSync(join(dir, 'vendor'), { recursive: true });
  const tgz = `vendor/textkit-data-${version}.tgz`;
  execFileSync('tar', ['czf', join(dir, tgz), '-C', join(dir, 'vendor-src'), 'package']);
  execFileSync('rm', ['-rf', join(dir, 'vendor-src')]);
  return tgz;
}

/**
 * The dependency step of a new worktree of the library (with a vendored dependency of 1,500 files):
 * staging's lockfile moved on from the checkout's (a task bumped the dependency), so a worktree
 * from it installs from its lockfile (what every new worktree did before), or copies the
 * node_modules of another worktree made for the same lockfile (now); and a worktree whose lockfile
 * matches the checkout's gets a copy of the checkout's, which a spare makes ahead of need.
 */
async function depsRound() {
  const { bootstrapWorktree } = await import(
    pathToFileURL(join(root, 'packages/engine/dist/worker/bootstrap.js')).href
  );
  const { Config } = await import(pathToFileURL(join(root, 'packages/core/dist/index.js')).href);
  const config = Config.parse({});
  const env = process.env;
  const repo = await generatedRepo(0, { ...baseFiles, '.gitignore': 'node_modules/\n.worktrees/\n' });
  try {
    const dir = repo.dir;
    const npm = (cwd) =>
      execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund'], { cwd, stdio: 'ignore' });
    const pkg = JSON.parse(baseFiles['package.json']);
    const setDep = (cwd, tgz) =>
      writeFileSync(
        join(cwd, 'package.json'),
        `${JSON.stringify({ ...pkg, devDependencies: { 'textkit-data': `file:${tgz}` } }, null, 2)}\n`,
      );
    setDep(dir, vendorPackage(dir, '1.0.0', 1500));
    npm(dir);
    git(dir, 'add', '-A');
    git(dir, 'commit', '-qm', 'a vendored dependency');
    const base = git(dir, 'rev-parse', 'HEAD');
    // Staging after a task bumped the dependency (the checkout keeps the old one).
    git(dir, 'checkout', '-q', '-b', 'staging');
    setDep(dir, vendorPackage(dir, '1.0.1', 1500));
    execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--package-lock-only'], {
      cwd: dir,
      stdio: 'ignore',
    });
    git(dir, 'add', '-A');
    git(dir, 'commit', '-qm', 'bump');
    const bumped = git(dir, 'rev-parse', 'HEAD');
    git(dir, 'checkout', '-q', 'main');
    const add = (name, commit) => {
      const wt = join(dir, '.worktrees', name);
      git(dir, 'worktree', 'add', '-q', '--detach', wt, commit);
      return wt;
    };
    const timed = async (wt, opts = {}) => {
      execFileSync('sync');
      const t0 = performance.now();
      const r = await bootstrapWorktree(dir, wt, config, env, opts);
      const s = (performance.now() - t0) / 1000;
      return { s, line: r.install.join(' ') };
    };
    const install = await timed(add('install', bumped));
    const reuse = await timed(add('reuse', bumped), { siblings: [join(dir, '.worktrees', 'install')] });
    const clone = await timed(add('clone', base));
    for (const [what, r, want] of [
      ['install', install, /installed with/],
      ['reuse', reuse, /made for the same lockfiles/],
      ['clone', clone, /copied from the checkout/],
    ])
      if (!want.test(r.line)) throw new Error(`${what}: unexpected bootstrap: ${r.line}`);
    return { install: install.s, reuse: reuse.s, clone: clone.s, load: loadavg()[0] };
  } finally {
    await repo.cleanup();
  }
}

assertBuilt();
if (DEPS) {
  const rounds = [];
  for (let i = 0; i < ROUNDS; i++) rounds.push(await depsRound());
  const col = (k) =>
    `${sec(median(rounds.map((r) => r[k])))} (${rounds.map((r) => r[k].toFixed(1)).join(', ')} s)`;
  const loads = rounds.map((r) => r.load.toFixed(1)).join(', ');
  report(
    'worktree dependencies, replay library',
    [
      {
        metric: `lockfile differs from the checkout's: \`npm ci --offline\` (before), median of ${ROUNDS} (rounds)`,
        measured: col('install'),
        goal: '',
      },
      {
        metric: 'same: a copy of another worktree’s node_modules for the same lockfile hash (now)',
        measured: col('reuse'),
        goal: '',
      },
      {
        metric:
          'lockfile matches the checkout’s: a copy of its node_modules (made by a spare, ahead of need)',
        measured: col('clone'),
        goal: '',
      },
      { metric: 'load average (1 min) after each round', measured: loads, goal: '' },
    ],
    flags,
  );
  process.exit(0);
}
const orchWalls = [];
const seqWalls = [];
const phases = {
  readyToStarted: [],
  startedToDone: [],
  doneToVerified: [],
  verifiedToMerged: [],
  doneToMerged: [],
};
const batches = [];
let peakKb = 0;
for (let i = 0; i < ROUNDS; i++) {
  seqWalls.push(await sequentialRound());
  const o = await orchRound();
  orchWalls.push(o.wall);
  for (const k of Object.keys(phases)) phases[k].push(...o[k]);
  batches.push(o.batches);
  peakKb = Math.max(peakKb, o.peakKb ?? 0);
}
const orchMed = median(orchWalls);
const seqMed = median(seqWalls);
const rows = [
  {
    metric: `real suite, ${tasks.length} tasks in ${WAVES} waves, ${WORKERS} workers: whole \`orch run\`, median of ${ROUNDS}`,
    measured: sec(orchMed),
    goal: '',
  },
  {
    metric: 'same changes applied one after another, one `npm test` each, median',
    measured: sec(seqMed),
    goal: '',
  },
  { metric: 'orch ÷ sequential', measured: `${(orchMed / seqMed).toFixed(2)}×`, goal: '≤ 1.0×' },
  {
    metric: 'orch overhead per task over sequential, (orch − sequential) ÷ tasks',
    measured: sec((orchMed - seqMed) / tasks.length),
    goal: '',
  },
  {
    metric: 'ready → worker started, p50 / p95 / worst',
    measured: spread(phases.readyToStarted, { p95: true }),
    goal: '',
  },
  {
    metric: 'worker started → done (writes files, commits), median / worst',
    measured: spread(phases.startedToDone),
    goal: '',
  },
  {
    metric: 'done → verified (the suite on the pinned commit), median / worst',
    measured: spread(phases.doneToVerified),
    goal: '',
  },
  {
    metric: 'verified → merged (landing, incremental suite), median / worst',
    measured: spread(phases.verifiedToMerged),
    goal: '',
  },
  {
    metric: 'done → merged, p50 / p95 / worst',
    measured: spread(phases.doneToMerged, { p95: true }),
    goal: '',
  },
  { metric: 'merge batch sizes seen, per round', measured: batches.join('; '), goal: '' },
  {
    metric: 'orchestrator peak memory (VmHWM of `orch run`)',
    measured: peakKb ? `${Math.round(peakKb / 1024)} MiB` : 'n/a (no /proc)',
    goal: '',
  },
];
report('real-suite replay', rows, flags);
