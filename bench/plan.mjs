// Times `orch plan check --json` as a whole process on generated plans of 200, 2,000 and 10,000
// tasks with 10 paths each (a third of them globs), prints a Markdown table and writes it to
// docs/benchmarks-plan.md (keeping what follows the history marker there). Goal: 2,000 tasks
// under 1 s on a 2-core machine. Wall time suffers when the machine is busy, so the CPU time the
// process used (user + system, from /proc on Linux) is measured too. Build first (pnpm build).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'packages/cli/dist/bin.js');
const SIZES = [200, 2000, 10000];
const RUNS = 5;
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

function time(file) {
  const times = [];
  const cpu = [];
  let exit;
  for (let r = 0; r < RUNS; r++) {
    const c0 = childrenCpu();
    const t0 = process.hrtime.bigint();
    const res = spawnSync(process.execPath, [bin, 'plan', 'check', file, '--json'], {
      encoding: 'utf8',
      maxBuffer: 1 << 28,
    });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const c1 = childrenCpu();
    if (c0 !== undefined && c1 !== undefined) cpu.push((c1 - c0) * 1000);
    exit = res.status;
    if (res.status !== 0 && res.status !== 3)
      throw new Error(`plan check failed (exit ${res.status}): ${res.stderr || res.stdout.slice(0, 500)}`);
  }
  times.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  return {
    median: times[Math.floor(RUNS / 2)],
    min: times[0],
    cpu: cpu.length === RUNS ? cpu[Math.floor(RUNS / 2)] : undefined,
    exit,
    kb: Math.round(statSync(file).size / 1024),
  };
}

const dir = mkdtempSync(join(tmpdir(), 'orch-bench-'));
const rows = [];
try {
  for (const n of SIZES) {
    const plan = planObject(n);
    const yamlFile = join(dir, `tasks-${n}.yaml`);
    const jsonFile = join(dir, `tasks-${n}.json`);
    writeFileSync(yamlFile, toYaml(plan));
    writeFileSync(jsonFile, JSON.stringify(plan));
    rows.push({ n, yaml: time(yamlFile), json: time(jsonFile) });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const cpu = cpus();
const machine = `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GB RAM, Node ${process.version}, ${process.platform}; load average ${loadavg()[0].toFixed(1)} when it finished (wall-clock figures grow on a busy machine; CPU figures much less)`;
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
console.log(table);
const doc = `# Benchmark: \`orch plan check\`

Generated by \`pnpm bench:plan\` (bench/plan.mjs): plans of 200, 2,000 and 10,000 tasks with 10 paths
each (a third of them globs, chains of 20 dependent tasks), timed as a whole \`node packages/cli/dist/bin.js
plan check --json\` process, ${RUNS} runs each, for the same plan written as YAML and as JSON. Exit 3 is expected: that many tasks needs approval.
Goal: 2,000 tasks under 1 s on a 2-core machine.

Machine: ${machine}.

${table}
`;
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
