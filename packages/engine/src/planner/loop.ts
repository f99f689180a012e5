/**
 * The planner loop of `orch plan "<request>"`: any agent adapter writes the plan headless, orch
 * checks it as `orch plan check` does and sends the problems back, for at most `MAX_PLAN_ROUNDS`.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { getAdapter, type AgentAdapter, type AgentEvent } from '@orch/agents';
import { spawnAgent } from '@orch/engine';
import {
  OrchError,
  ExitCode,
  checkPlan,
  isOrchError,
  loadConfig,
  loadPlan,
  type Config,
  type Plan,
  type PlanCheckReport,
  type SourceIssue,
  withModeline,
} from '@orch/core';
import { assetsRoot } from '../assets.js';
import { renderRepoSummary, summarizeRepo, type RepoSummary } from './repo-summary.js';

export const MAX_PLAN_ROUNDS = 3;

export interface GeneratePlanOptions {
  request: string;
  repoRoot: string;
  /** Where the plan goes; relative paths are taken from the repository root. Must stay inside it. */
  output: string;
  agent?: string;
  model?: string;
  maxRounds?: number;
  /** orch's version: the accepted plan's modeline points editors at this version's schema. */
  version: string;
  env?: NodeJS.ProcessEnv;
  /** Called with each event of the planner's output, for a live view. */
  onEvent?: (round: number, line: string) => void;
  onRoundStart?: (round: number) => void;
  onRoundEnd?: (round: PlanRound) => void;
}

export interface PlanRound {
  round: number;
  agentExitCode: number | undefined;
  /** Problems `orch plan check` found in what the planner wrote; empty when the plan is valid. */
  errors: string[];
}

export interface GeneratePlanResult {
  output: string;
  rounds: PlanRound[];
  summary: RepoSummary;
  plan?: Plan;
  report?: PlanCheckReport;
}

/** The output path, resolved inside the repository; anything outside is refused. */
export function resolveOutput(repoRoot: string, output: string, cwd = process.cwd()): string {
  const full = isAbsolute(output) ? resolve(output) : resolve(cwd, output);
  const rel = relative(repoRoot, full);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
    throw new OrchError(
      'ERR_ORCH_PLAN_OUTPUT',
      `the plan file ${output} is outside the repository ${repoRoot}`,
      {
        hint: 'Write the plan inside the repository, e.g. -o tasks.yaml.',
        exitCode: ExitCode.Usage,
      },
    );
  }
  return full;
}

/** Every reason `orch plan check` rejects a report, one line each. */
export function reportErrors(r: PlanCheckReport): string[] {
  const out = [...r.dag.errors];
  for (const c of r.conflicts.conflicts) {
    out.push(
      `${c.type} conflict on ${c.target} between ${c.tasks.join(', ')}: ${c.detail.replace(/\.$/, '')}; fix: ${c.suggestion}`,
    );
  }
  out.push(...r.contracts.errors);
  for (const c of r.contracts.contracts)
    if (c.status !== 'ok') out.push(`contract ${c.name} (${c.file_path}): ${c.message}`);
  return out;
}

async function readOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Validates the plan file exactly as `orch plan check` does. */
async function validate(
  file: string,
  repoRoot: string,
  config: Config,
): Promise<{ errors: string[]; plan?: Plan; report?: PlanCheckReport }> {
  let plan: Plan;
  try {
    plan = (await loadPlan(file, { allowUnknownDependencies: true })).plan;
  } catch (e) {
    if (!isOrchError(e)) throw e;
    const issues = (e.details?.['issues'] ?? []) as SourceIssue[];
    const errors = issues.length
      ? issues.map((i) => `${i.line !== undefined ? `line ${i.line}: ` : ''}${i.path}: ${i.message}`)
      : [e.message];
    return { errors };
  }
  const report = await checkPlan(plan, { repoRoot, config });
  return { errors: report.exitCode === 1 ? reportErrors(report) : [], plan, report };
}

function promptFor(o: {
  request: string;
  summary: string;
  outputRel: string;
  round: number;
  maxRounds: number;
  existed: boolean;
  previous?: { text: string; errors: string[] };
}): string {
  const parts = [
    'Plan the following request for orch. Do not implement it.',
    '',
    '## Request',
    '',
    o.request,
    '',
    '## Repository summary',
    '',
    o.summary,
    '',
    '## What to produce',
    '',
    `Write the complete plan as YAML to \`${o.outputRel}\` (relative to the repository root) with the`,
    'Write tool, in the tasks.yaml format of your instructions. Put any contracts under `contracts/`.',
    'Change no other file. When the plan file is written, answer with one short line.',
  ];
  if (o.existed && !o.previous)
    parts.push('', `\`${o.outputRel}\` already exists (an earlier plan): read it, then replace it.`);
  if (o.previous) {
    parts.push(
      '',
      `## Round ${o.round} of ${o.maxRounds}: fix the plan`,
      '',
      `The plan you wrote does not pass \`orch plan check\`. orch removed \`${o.outputRel}\`; write it again,`,
      'complete, with every problem below fixed:',
      '',
      ...o.previous.errors.map((e) => `- ${e}`),
      '',
      'The rejected plan was:',
      '',
      '```yaml',
      o.previous.text.trimEnd(),
      '```',
    );
  }
  return parts.join('\n') + '\n';
}

async function runAgent(
  adapter: AgentAdapter,
  o: GeneratePlanOptions,
  config: Config,
  scratch: string,
  round: number,
  prompt: string,
): Promise<{ exitCode: number | undefined; failure?: string }> {
  const promptFile = join(scratch, `planner-round-${round}.md`);
  await writeFile(promptFile, prompt);
  const cmd = adapter.buildCommand({
    role: 'planner',
    taskId: 'planner',
    worktree: o.repoRoot,
    promptFile,
    prompt,
    systemPromptFile: join(assetsRoot(), 'agents', 'planner-architect.md'),
    ...(o.model ? { model: o.model } : {}),
    config,
    env: { ORCH_ROOT: o.repoRoot },
  });
  const file = cmd.argv[0];
  const parser = adapter.createParser();
  let result: Extract<AgentEvent, { type: 'result' }> | undefined;
  let lastError: string | undefined;
  const onEvents = (events: AgentEvent[]): void => {
    for (const ev of events) {
      if (ev.type === 'result') result = ev;
      if (ev.type === 'error' || ev.type === 'rate_limit') lastError = ev.message;
      const line = adapter.render(ev);
      if (line !== undefined) o.onEvent?.(round, line);
    }
  };
  const child = spawnAgent(cmd, {
    cwd: o.repoRoot,
    config,
    ...(o.env ? { baseEnv: o.env } : {}),
    timeoutMs: config.orchestration.task_timeout * 1000,
  });
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => onEvents(parser.push(chunk)));
  const r = await child;
  onEvents(parser.end());
  if ((r as { code?: string }).code === 'ENOENT') {
    throw new OrchError('ERR_ORCH_AGENT_NOT_FOUND', `the planner agent CLI \`${file}\` is not on PATH`, {
      hint: 'Install it, or choose another agent with --agent; `orch doctor` lists what is found.',
    });
  }
  const failed = r.timedOut || r.exitCode !== 0 || (result !== undefined && !result.ok);
  const failure = r.timedOut
    ? `timed out after ${config.orchestration.task_timeout} s`
    : (lastError ?? (r.stderr.trim().split('\n').slice(-3).join(' ') || `exit code ${r.exitCode}`));
  return failed ? { exitCode: r.exitCode, failure } : { exitCode: r.exitCode };
}

/**
 * `orch plan "<request>"`: the planner agent writes the plan headless; orch checks it and sends the
 * problems back, for at most `maxRounds` rounds. Throws when the agent fails or no valid plan came out.
 */
export async function generatePlan(o: GeneratePlanOptions): Promise<GeneratePlanResult> {
  const maxRounds = o.maxRounds ?? MAX_PLAN_ROUNDS;
  const output = resolveOutput(o.repoRoot, o.output, o.repoRoot);
  const outputRel = relative(o.repoRoot, output).split('\\').join('/');
  const config = await loadConfig(o.repoRoot);
  const adapter = getAdapter(o.agent ?? config.agents.default);
  const summary = await summarizeRepo(o.repoRoot);
  const summaryText = renderRepoSummary(summary);
  const original = await readOrUndefined(output);
  const scratch = await mkdtemp(join(tmpdir(), 'orch-plan-'));
  const rounds: PlanRound[] = [];
  let previous: { text: string; errors: string[] } | undefined;
  try {
    for (let round = 1; round <= maxRounds; round++) {
      o.onRoundStart?.(round);
      const prompt = promptFor({
        request: o.request,
        summary: summaryText,
        outputRel,
        round,
        maxRounds,
        existed: original !== undefined,
        ...(previous ? { previous } : {}),
      });
      const agent = await runAgent(adapter, o, config, scratch, round, prompt);
      const text = await readOrUndefined(output);
      const written = text !== undefined && text !== original;
      if (!written) {
        if (agent.failure) {
          throw new OrchError(
            'ERR_ORCH_PLANNER_FAILED',
            `the planner (${adapter.name}) failed in round ${round}: ${agent.failure}`,
            {
              hint: 'Check the agent CLI with `orch doctor` and try again.',
              details: { rounds },
            },
          );
        }
        previous = { text: '', errors: [`${outputRel} was not written; write it with the Write tool`] };
        rounds.push({ round, agentExitCode: agent.exitCode, errors: previous.errors });
        o.onRoundEnd?.(rounds.at(-1)!);
        continue;
      }
      const v = await validate(output, o.repoRoot, config);
      rounds.push({ round, agentExitCode: agent.exitCode, errors: v.errors });
      o.onRoundEnd?.(rounds.at(-1)!);
      if (v.errors.length === 0 && v.plan && v.report) {
        // A comment line: the plan stays what was checked, and editors find its schema.
        await writeFile(output, withModeline(text, 'plan', o.version));
        return { output, rounds, summary, plan: v.plan, report: v.report };
      }
      previous = { text, errors: v.errors };
      // The next round writes the file from scratch (the Write tool refuses to replace a file it has not read).
      if (round < maxRounds) await rm(output, { force: true });
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  const last = rounds.at(-1)?.errors ?? [];
  throw new OrchError(
    'ERR_ORCH_PLAN_NOT_VALID',
    `the planner did not produce a valid plan in ${maxRounds} rounds; last problems:\n${last.map((e) => `  - ${e}`).join('\n')}`,
    {
      hint: `Fix ${outputRel} by hand and run \`orch plan check ${outputRel}\`, or rephrase the request.`,
      details: { rounds, output },
    },
  );
}
