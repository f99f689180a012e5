// Times `orch plan check --json` as a whole process on generated plans of 200, 2,000 and 10,000
// tasks with 10 paths each (a third of them globs), prints Markdown tables and writes them to
// docs/benchmarks-plan.md (keeping what follows the history marker there). Goal: 2,000 tasks
// under 0.37 s (20x the seed's Python scripts on the same plan). Wall time suffers when the
// machine is busy, so the CPU time the process used (user + system, from /proc on Linux) is
// measured too. Also:
// - the growth of the conflict check on the two shapes that used to cost every pair (k ordered
//   tasks writing one file; many different prefix-less globs), 250 to 2,000 tasks, in-process;
// - start-up: orch --version and `orch plan check` (2,000 tasks) as whole processes, 20 runs,
//   for the workspace build and, when built (`pnpm bundle`), the npm package's bundle;
// - with `--seed DIR` (a folder holding the seed's dag.py, conflict.py and risk.py), the three
//   seed scripts one after another on the same 2,000-task plan, for the ratio.
// `--smoke` runs the smallest case of each, once, and writes nothing. Build first (pnpm build).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'packages/cli/dist/bin.js');
const bundle = join(root, 'packages/orch/dist/bin.js');
const argv = process.argv.slice(2);
const smoke = argv.includes('--smoke');
const seedAt = argv.indexOf('--seed');
const seedDir = seedAt >= 0 ? argv[seedAt + 1] : undefined;
const SIZES = smoke ? [200] : [200, 2000, 10000];
const RUNS = smoke ? 1 : 5;
const GROWTH = smoke ? [250] : [250, 500, 1000, 2000];
const STARTUP_RUNS = smoke ? 1 : 20;
const SEED_RUNS = smoke ? 1 : 3;
const HISTORY = '<!-- history: kept by bench/plan.mjs -->';

/** CPU seconds used by this process's waited-for children (Linux); undefined elsewhere. */
function childrenCpu() {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // Fields after the command name (which may hold spaces): cutime and cstime are the 14th and
    // 15th of them (fields 16 and 17 of the line), in clock ticks of 1/100 s.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[13]) + Number(f[14])) / 100;
  } catch {
    return undefined;
  }
}

/** Task i owns pkg/m<i>/ (exact files and globs) and reads what its dependency owns. */
function planObject(n) {
  const tasks = [];
  for (let i = 0; i < n; i++) {
    const dep = i % 20 === 0 ? undefined : i - 1;
    const m = `pkg/m${i}`;
    const d = `pkg/m${dep}`;
    tasks.push({
      id: `t${i}`,
      description: `generated task ${i}`,
      files_write: [`${m}/index.ts`, `${m}/model.ts`, `${m}/service.ts`, `${m}/gen/**`, `${m}/views/*.tsx`],
      files_read:
        dep === undefined
          ? ['README.md', 'package.json', 'docs/*.md']
          : [`${d}/index.ts`, `${d}/model.ts`, `${d}/gen/**`],
      files_append: [`${m}/notes/*.md`, `${m}/CHANGELOG.md`],
      ...(dep === undefined ? {} : { depends_on: [`t${dep}`] }),
      verification: [{ command: `npx vitest run ${m}`, type: 'test' }],
    });
  }
  return { request: 'benchmark plan', tasks };
}

/** Block-style YAML, as a planner writes it. */
function toYaml(plan) {
  const q = (s) => JSON.stringify(s);
  const lines = [`request: ${q(plan.request)}`, 'tasks:'];
  for (const t of plan.tasks) {
    lines.push(`  - id: ${t.id}`, `    description: ${q(t.description)}`);
    for (const k of ['files_write', 'files_read', 'files_append'])
      lines.push(`    ${k}:`, ...t[k].map((p) => `      - ${q(p)}`));
    if (t.depends_on) lines.push(`    depends_on: [${t.depends_on.join(', ')}]`);
    lines.push(
      '    verification:',
      ...t.verification.map((v) => `      - command: ${q(v.command)}\n        type: ${v.type}`),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Wall and CPU medians (ms) of running `args` as a child `runs` times; exit codes 0 and 3 are success. */
function timeProcess(command, args, runs, ok = [0, 3]) {
  const times = [];
  const cpu = [];
  let exit;
  for (let r = 0; r < runs; r++) {
    const c0 = childrenCpu();
    const t0 = process.hrtime.bigint();
    const res = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const c1 = childrenCpu();
    if (c0 !== undefined && c1 !== undefined) cpu.push((c1 - c0) * 1000);
    exit = res.status;
    if (!ok.includes(res.status))
      throw new Error(
        `${args.join(' ')} failed (exit ${res.status}): ${res.stderr || res.stdout.slice(0, 500)}`,
      );
  }
  times.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  return {
    median: times[Math.floor(runs / 2)],
    min: times[0],
    cpu: cpu.length === runs ? cpu[Math.floor(runs / 2)] : undefined,
    exit,
  };
}

function time(file) {
  return {
    ...timeProcess(process.execPath, [bin, 'plan', 'check', file, '--json'], RUNS),
    kb: Math.round(statSync(file).size / 1024),
  };
}

/** The two shapes that used to cost every pair of entries. */
const SHAPES = {
  // Each task writes the registry after the one before it: one chain, no conflict.
  'ordered writers of one file': (n) =>
    Array.from({ length: n }, (_, i) => ({
      id: `t${i}`,
      files_write: ['src/registry.ts', `pkg/m${i}/index.ts`],
      files_read: ['src/registry.ts'],
      ...(i > 0 ? { depends_on: [`t${i - 1}`] } : {}),
    })),
  // Each task owns every file of its own extension, anywhere: no literal head to sort by.
  'different prefix-less globs': (n) =>
    Array.from({ length: n }, (_, i) => ({
      id: `t${i}`,
      files_write: [`**/*.m${i}.ts`, `pkg/m${i}/index.ts`],
      files_read: ['README.md'],
    })),
};

/** In-process CPU time (ms) of the conflict check, median of 3 after the first call (which compiles the code). */
async function growth() {
  const core = await import(pathToFileURL(join(root, 'packages/core/dist/index.js')).href);
  const rows = [];
  for (const [shape, make] of Object.entries(SHAPES)) {
    for (const n of GROWTH) {
      const tasks = make(n).map((t) => ({ ...t, verification: [{ command: 'npm test', type: 'test' }] }));
      const plan = core.parsePlan(JSON.stringify({ tasks }), 'plan.json', { allowUnknownDependencies: true });
      const cpu = () => {
        const u = process.cpuUsage();
        return (u.user + u.system) / 1000;
      };
      const runs = [];
      let count = 0;
      for (let r = 0; r < 4; r++) {
        const t0 = cpu();
        count = core.detectConflicts(plan).count;
        runs.push(cpu() - t0);
      }
      const warm = runs.slice(1).sort((a, b) => a - b);
      rows.push({ shape, n, first: runs[0], median: warm[1], count });
    }
  }
  return rows;
}

const loadAtStart = loadavg()[0];
/** The commit measured (and whether the tree had changes), for the record. */
const commit = (() => {
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' });
  const dirty = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], {
    cwd: root,
    encoding: 'utf8',
  });
  return head.status === 0
    ? `${head.stdout.trim()}${dirty.stdout.trim() ? ' with local changes' : ''}`
    : 'unknown';
})();
const dir = mkdtempSync(join(tmpdir(), 'orch-bench-'));
const rows = [];
const startup = [];
let seed;
try {
  for (const n of SIZES) {
    const plan = planObject(n);
    const yamlFile = join(dir, `tasks-${n}.yaml`);
    const jsonFile = join(dir, `tasks-${n}.json`);
    writeFileSync(yamlFile, toYaml(plan));
    writeFileSync(jsonFile, JSON.stringify(plan));
    rows.push({ n, yaml: time(yamlFile), json: time(jsonFile) });
  }
  const n = smoke ? 200 : 2000;
  const plan = join(dir, `tasks-${n}.yaml`);
  const builds = [['workspace build', bin]];
  if (existsSync(bundle)) builds.push(['bundle', bundle]);
  startup.push({
    what: 'Node.js alone (`node -e 0`)',
    ...timeProcess(process.execPath, ['-e', '0'], STARTUP_RUNS),
  });
  for (const [what, file] of builds) {
    startup.push({
      what: `${what}: orch --version`,
      ...timeProcess(process.execPath, [file, '--version'], STARTUP_RUNS),
    });
    startup.push({
      what: `${what}: \`orch plan check --json\`, ${n.toLocaleString('en')} tasks`,
      ...timeProcess(process.execPath, [file, 'plan', 'check', plan, '--json'], STARTUP_RUNS),
    });
  }
  if (seedDir) {
    const scripts = ['dag.py', 'conflict.py', 'risk.py'];
    const runs = [];
    for (let r = 0; r < SEED_RUNS; r++) {
      let total = 0;
      let cpu = 0;
      for (const s of scripts) {
        const t = timeProcess('python3', [join(seedDir, s), '--json', plan], 1, [0, 1]);
        total += t.median;
        cpu += t.cpu ?? NaN;
      }
      runs.push({ total, cpu });
    }
    runs.sort((a, b) => a.total - b.total);
    seed = { n, ...runs[Math.floor(SEED_RUNS / 2)] };
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const growthRows = await growth();

const cpu = cpus();
const machine = `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GB RAM, Node ${process.version}, ${process.platform}; commit ${commit}; load average (1 min) ${loadAtStart.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} when it finished (wall-clock figures grow on a busy machine; CPU figures much less)`;
const ms = (x) => (x === undefined ? 'n/a' : x.toFixed(0));
// The first eight columns are read by bench/run-all.mjs; new columns go at the end.
const table = [
  '| tasks | paths | YAML size | YAML median (ms) | YAML min (ms) | JSON median (ms) | JSON min (ms) | exit | YAML CPU median (ms) | JSON CPU median (ms) |',
  '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.n.toLocaleString('en')} | ${(r.n * 10).toLocaleString('en')} | ${r.yaml.kb} KB | ${ms(r.yaml.median)} | ${ms(r.yaml.min)} | ${ms(r.json.median)} | ${ms(r.json.min)} | ${r.yaml.exit} | ${ms(r.yaml.cpu)} | ${ms(r.json.cpu)} |`,
  ),
].join('\n');
const growthTable = [
  '| shape | tasks | conflicts | first check, CPU (ms) | check, CPU median of 3 after it (ms) |',
  '|---|---:|---:|---:|---:|',
  ...growthRows.map(
    (r) => `| ${r.shape} | ${r.n.toLocaleString('en')} | ${r.count} | ${ms(r.first)} | ${ms(r.median)} |`,
  ),
].join('\n');
const startupTable = [
  `| whole process (${STARTUP_RUNS} runs) | wall median (ms) | wall fastest (ms) | CPU median (ms) |`,
  '|---|---:|---:|---:|',
  ...startup.map((r) => `| ${r.what} | ${ms(r.median)} | ${ms(r.min)} | ${ms(r.cpu)} |`),
].join('\n');
const pc = startup.findLast((r) => r.what.includes('plan check'));
const seedTable = seed
  ? [
      `| the seed's three scripts on the same ${seed.n.toLocaleString('en')}-task YAML plan (median of ${SEED_RUNS}) | measured |`,
      '|---|---:|',
      `| \`dag.py\` + \`conflict.py\` + \`risk.py\`, one after another, wall | ${ms(seed.total)} ms |`,
      `| same, CPU | ${ms(seed.cpu)} ms |`,
      `| orch, ${pc.what.split(':')[0]}, wall median | ${ms(pc.median)} ms |`,
      `| orch, same, CPU median | ${ms(pc.cpu)} ms |`,
      `| seed ÷ orch, wall | ${(seed.total / pc.median).toFixed(1)}× |`,
      `| seed ÷ orch, CPU (fairer on a busy machine) | ${pc.cpu ? (seed.cpu / pc.cpu).toFixed(1) : 'n/a'}× |`,
    ].join('\n')
  : '';
console.log(table);
console.log(`\n${growthTable}\n\n${startupTable}`);
if (seedTable) console.log(`\n${seedTable}`);
if (smoke) process.exit(0);
const doc = `# Benchmark: \`orch plan check\`

Generated by \`pnpm bench:plan\` (bench/plan.mjs): plans of 200, 2,000 and 10,000 tasks with 10 paths
each (a third of them globs, chains of 20 dependent tasks), timed as a whole \`node packages/cli/dist/bin.js
plan check --json\` process, ${RUNS} runs each, for the same plan written as YAML and as JSON. Exit 3 is expected: that many tasks needs approval.
Goal: 2,000 tasks under 0.37 s on a 2-core machine (20× the seed's scripts).

Machine: ${machine}.

${table}

## Growth of the conflict check

The two plan shapes that used to cost every pair of entries, checked in-process
(\`detectConflicts\` of \`packages/core/dist\`): each task writes \`src/registry.ts\` after the task
before it (one chain); each task owns \`**/*.m<i>.ts\` (globs without a literal head). Near-linear
growth means doubling the tasks about doubles the time.

${growthTable}

## Start-up

Whole processes, ${STARTUP_RUNS} runs each: the workspace build (\`packages/cli/dist/bin.js\`, one
file per module) and, when \`pnpm bundle\` made it, the bundle the npm package installs
(\`packages/orch/dist/bin.js\`).

${startupTable}
${seedTable ? `\n## Against the seed\n\n${seedTable}\n` : ''}`;
const docPath = join(root, 'docs/benchmarks-plan.md');
const old = existsSync(docPath) ? readFileSync(docPath, 'utf8') : '';
const at = old.indexOf(HISTORY);
let text = at < 0 ? doc : `${doc}\n${old.slice(at)}`;
// Formatted as `pnpm lint` expects (Prettier aligns the table columns).
const prettier = await import('prettier').catch(() => undefined);
if (prettier) {
  const options = (await prettier.resolveConfig(docPath)) ?? {};
  text = await prettier.format(text, { ...options, filepath: docPath });
}
writeFileSync(docPath, text);
