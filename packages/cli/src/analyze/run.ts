/** The analyzer commands: load, analyze, print (text or JSON), return the exit code. */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import {
  ExitCode,
  OrchError,
  analyzeDag,
  checkContracts,
  checkPlan,
  detectConflicts,
  envHashFromFiles,
  findPlanFile,
  loadConfig,
  loadConfigSource,
  loadPlan,
  renderContract,
  scoreRisk,
  type ContractLang,
  type SourceIssue,
  isOrchError,
} from '@orch/core';
import { checkoutRoot, nearestCheckoutRoot } from '@orch/store';
import { note, printJson, println } from '../output.js';
import { formatConflicts, formatContracts, formatDag, formatPlanCheck, formatRisk } from './format.js';
import { trackedFiles } from './root.js';

export interface JsonOpt {
  json?: boolean;
}
export interface ConfigOpt extends JsonOpt {
  config?: string;
}

const print = (json: boolean | undefined, value: unknown, lines: () => string[]): void => {
  if (json) printJson(value);
  else for (const l of lines()) println(l);
};

export async function runDag(planPath: string, opts: JsonOpt): Promise<number> {
  const { plan, doc } = await loadPlan(planPath, { allowUnknownDependencies: true });
  const r = analyzeDag(plan, doc);
  print(opts.json, r, () => formatDag(r));
  return r.valid ? ExitCode.Ok : ExitCode.Failed;
}

export async function runConflicts(planPath: string, opts: JsonOpt): Promise<number> {
  const { plan } = await loadPlan(planPath);
  const r = detectConflicts(plan);
  print(opts.json, r, () => formatConflicts(r));
  return r.count === 0 ? ExitCode.Ok : ExitCode.Failed;
}

export async function runRisk(planPath: string, opts: ConfigOpt): Promise<number> {
  const { plan, path } = await loadPlan(planPath);
  const config = await loadConfig(nearestCheckoutRoot(dirname(path)), opts.config);
  const r = scoreRisk(plan, config);
  print(opts.json, r, () => formatRisk(r));
  return r.auto_approve ? ExitCode.Ok : ExitCode.NeedsApproval;
}

export async function runPlanCheck(given: string, opts: ConfigOpt): Promise<number> {
  const cwd = process.cwd();
  // Like `orch run`: a relative plan path not found here is looked for at the repository root.
  const file = findPlanFile(given, cwd, nearestCheckoutRoot(cwd));
  const planPath = isAbsolute(given) ? given : relative(cwd, file) || given;
  let loaded: Awaited<ReturnType<typeof loadPlan>>;
  // The config comes first: the plan's paths are checked against its worktree folder.
  const repoRoot = nearestCheckoutRoot(dirname(resolve(planPath)));
  const { config, warnings } = await loadConfigSource(repoRoot, opts.config);
  try {
    loaded = await loadPlan(planPath, {
      allowUnknownDependencies: true,
      worktreeDir: config.orchestration.worktree_dir,
    });
  } catch (e) {
    // With --json a schema failure is still one report, so callers parse one shape.
    if (opts.json && isOrchError(e, 'ERR_ORCH_PLAN_INVALID')) {
      const issues = (e.details?.issues ?? []) as SourceIssue[];
      printJson({
        ok: false,
        exitCode: ExitCode.Failed,
        schema: { valid: false, total_tasks: 0, issues },
        dag: null,
        conflicts: null,
        risk: null,
        contracts: null,
        error: e.toJSON(),
      });
      return ExitCode.Failed;
    }
    throw e;
  }
  const r = await checkPlan(loaded.plan, { repoRoot, config, doc: loaded.doc });
  if (opts.json) printJson({ ...r, config_warnings: warnings });
  else {
    for (const w of warnings) note(`warning: ${w}`);
    for (const l of formatPlanCheck(planPath, r)) println(l);
  }
  return r.exitCode;
}

async function currentEnvHash(): Promise<{ hash: string; lockfiles: string[] }> {
  const root = await checkoutRoot(process.cwd());
  return envHashFromFiles(root, await trackedFiles(root));
}

export async function runEnvHash(opts: JsonOpt): Promise<number> {
  const r = await currentEnvHash();
  print(opts.json, r, () => [
    `Environment hash: ${r.hash}`,
    `Sources: ${r.lockfiles.length ? r.lockfiles.join(', ') : '(no lockfiles)'}`,
  ]);
  return ExitCode.Ok;
}

export async function runEnvVerify(expected: string, opts: JsonOpt): Promise<number> {
  const r = await currentEnvHash();
  const match = r.hash === expected.trim();
  print(opts.json, { match, expected, actual: r.hash, lockfiles: r.lockfiles }, () =>
    match
      ? [`✓ Environment hash matches: ${r.hash}`]
      : [
          `✗ Environment hash mismatch: expected ${expected}, actual ${r.hash}`,
          `Sources: ${r.lockfiles.join(', ') || '(no lockfiles)'}`,
        ],
  );
  return match ? ExitCode.Ok : ExitCode.Failed;
}

export interface ContractsGenOpts extends JsonOpt {
  lang: string;
  output?: string;
  version?: string;
}

export async function runContractsGen(
  name: string,
  methods: string[],
  opts: ContractsGenOpts,
): Promise<number> {
  const { content, version } = renderContract({
    name,
    methods,
    lang: opts.lang as ContractLang,
    ...(opts.version !== undefined ? { version: opts.version } : {}),
  });
  if (opts.output !== undefined) {
    const out = resolve(opts.output);
    try {
      await mkdir(dirname(out), { recursive: true });
      await writeFile(out, content);
    } catch (e) {
      throw new OrchError(
        'ERR_ORCH_WRITE_FAILED',
        `cannot write ${opts.output}: ${e instanceof Error ? e.message : String(e)}`,
        {
          hint: 'Choose a writable path for -o.',
        },
      );
    }
  }
  if (opts.json) printJson({ name, lang: opts.lang, version, path: opts.output ?? null, content });
  else if (opts.output !== undefined) println(`✓ Contract written to ${opts.output} (version ${version})`);
  else process.stdout.write(content);
  return ExitCode.Ok;
}

export async function runContractsCheck(planPath: string, opts: JsonOpt): Promise<number> {
  const { plan, path } = await loadPlan(planPath);
  const r = await checkContracts(plan, nearestCheckoutRoot(dirname(path)));
  print(opts.json, r, () => formatContracts(r));
  return r.ok ? ExitCode.Ok : ExitCode.Failed;
}
