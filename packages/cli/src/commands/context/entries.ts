/** `orch context ...`: the repository's shared context (facts workers record for each other). */
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { ExitCode, OrchError } from '@orch/core';
import {
  ContextStore,
  getCurrentRun,
  parseContextValue,
  readPlanTasks,
  resolveRepoRoot,
  runPaths,
  type ContextEntry,
} from '@orch/store';
import { printJson, println } from '../../output.js';
import { senderName } from '../common/run.js';

async function store(): Promise<{ root: string; ctx: ContextStore }> {
  const root = await resolveRepoRoot();
  return { root, ctx: new ContextStore(root) };
}

function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}

function printEntries(entries: Record<string, ContextEntry>, json: boolean | undefined, empty: string): void {
  if (json) return printJson(entries);
  const keys = Object.keys(entries).sort();
  if (keys.length === 0) return println(empty);
  for (const k of keys) {
    const e = entries[k] as ContextEntry;
    const v = show(e.value).replace(/\s+/g, ' ');
    println(`${k} = ${v.length > 100 ? `${v.slice(0, 99)}…` : v}  (by ${e.addedBy}, ${e.updatedAt})`);
  }
}

export async function setCommand(
  key: string,
  value: string,
  o: { from?: string; json?: boolean },
): Promise<ExitCode> {
  const { ctx } = await store();
  const entry = await ctx.set(key, parseContextValue(value), { from: senderName(o.from) });
  if (o.json) printJson({ key, ...entry });
  else println(`set ${key}`);
  return ExitCode.Ok;
}

export async function getCommand(key: string, o: { json?: boolean }): Promise<ExitCode> {
  const { ctx } = await store();
  const entry = await ctx.get(key);
  if (!entry) {
    throw new OrchError('ERR_ORCH_CONTEXT_NOT_FOUND', `no context entry ${JSON.stringify(key)}`, {
      hint: 'See the keys with `orch context list`, or search with `orch context search <text>`.',
    });
  }
  if (o.json) printJson({ key, ...entry });
  else println(show(entry.value));
  return ExitCode.Ok;
}

export async function listCommand(o: { json?: boolean }): Promise<ExitCode> {
  const { ctx } = await store();
  printEntries(await ctx.list(), o.json, 'the shared context is empty');
  return ExitCode.Ok;
}

export async function searchCommand(query: string, o: { json?: boolean }): Promise<ExitCode> {
  const { ctx } = await store();
  printEntries(await ctx.search(query), o.json, `nothing matches ${JSON.stringify(query)}`);
  return ExitCode.Ok;
}

export async function deleteCommand(key: string, o: { json?: boolean }): Promise<ExitCode> {
  const { ctx } = await store();
  const deleted = await ctx.delete(key);
  if (o.json) printJson({ key, deleted });
  else println(deleted ? `deleted ${key}` : `no entry ${key}`);
  return deleted ? ExitCode.Ok : ExitCode.Failed;
}

/** The plan: --plan, else the plan saved with the run, else tasks.yaml at the repository root. */
async function planPath(root: string, o: { plan?: string; run?: string }): Promise<string> {
  if (o.plan) return isAbsolute(o.plan) ? o.plan : resolve(process.cwd(), o.plan);
  const run = o.run ?? (process.env.ORCH_RUN || undefined) ?? (await getCurrentRun(root));
  if (run) {
    const p = runPaths(root, run).plan;
    if (existsSync(p)) return p;
  }
  return join(root, 'tasks.yaml');
}

export async function getForTaskCommand(
  task: string,
  o: { plan?: string; run?: string; json?: boolean },
): Promise<ExitCode> {
  const { root, ctx } = await store();
  const plan = await readPlanTasks(await planPath(root, o));
  const markdown = await ctx.getForTask(task, plan);
  if (o.json) printJson({ task, markdown });
  else if (markdown) process.stdout.write(markdown.endsWith('\n') ? markdown : `${markdown}\n`);
  return ExitCode.Ok;
}
