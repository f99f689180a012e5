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
import type { CommandIO, CommandResult } from '../../define.js';
import { senderName, whereOf } from '../common/run.js';

async function store(io: CommandIO): Promise<{ root: string; ctx: ContextStore }> {
  const root = await resolveRepoRoot(whereOf(io));
  return { root, ctx: new ContextStore(root) };
}

function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}

function entriesResult(
  entries: Record<string, ContextEntry>,
  json: boolean | undefined,
  empty: string,
): CommandResult {
  if (json) return { exitCode: ExitCode.Ok, json: entries };
  const keys = Object.keys(entries).sort();
  if (keys.length === 0) return { exitCode: ExitCode.Ok, lines: [empty] };
  return {
    exitCode: ExitCode.Ok,
    lines: keys.map((k) => {
      const e = entries[k] as ContextEntry;
      const v = show(e.value).replace(/\s+/g, ' ');
      return `${k} = ${v.length > 100 ? `${v.slice(0, 99)}…` : v}  (by ${e.addedBy}, ${e.updatedAt})`;
    }),
  };
}

export async function setCommand(
  key: string,
  value: string,
  o: { from?: string | undefined; json?: boolean },
  io: CommandIO,
): Promise<CommandResult> {
  const { ctx } = await store(io);
  const entry = await ctx.set(key, parseContextValue(value), { from: senderName(o.from, io.env) });
  if (o.json) return { exitCode: ExitCode.Ok, json: { key, ...entry } };
  return { exitCode: ExitCode.Ok, lines: [`set ${key}`] };
}

export async function getCommand(key: string, o: { json?: boolean }, io: CommandIO): Promise<CommandResult> {
  const { ctx } = await store(io);
  const entry = await ctx.get(key);
  if (!entry) {
    throw new OrchError('ERR_ORCH_CONTEXT_NOT_FOUND', `no context entry ${JSON.stringify(key)}`, {
      hint: 'See the keys with `orch context list`, or search with `orch context search <text>`.',
    });
  }
  if (o.json) return { exitCode: ExitCode.Ok, json: { key, ...entry } };
  return { exitCode: ExitCode.Ok, lines: [show(entry.value)] };
}

export async function listCommand(o: { json?: boolean }, io: CommandIO): Promise<CommandResult> {
  const { ctx } = await store(io);
  return entriesResult(await ctx.list(), o.json, 'the shared context is empty');
}

export async function searchCommand(
  query: string,
  o: { json?: boolean },
  io: CommandIO,
): Promise<CommandResult> {
  const { ctx } = await store(io);
  return entriesResult(await ctx.search(query), o.json, `nothing matches ${JSON.stringify(query)}`);
}

export async function deleteCommand(
  key: string,
  o: { json?: boolean },
  io: CommandIO,
): Promise<CommandResult> {
  const { ctx } = await store(io);
  const deleted = await ctx.delete(key);
  const exitCode = deleted ? ExitCode.Ok : ExitCode.Failed;
  if (o.json) return { exitCode, json: { key, deleted } };
  return { exitCode, lines: [deleted ? `deleted ${key}` : `no entry ${key}`] };
}

/** The plan: --plan, else the plan saved with the run, else tasks.yaml at the repository root. */
async function planPath(
  root: string,
  o: { plan?: string | undefined; run?: string | undefined },
  io: CommandIO,
): Promise<string> {
  if (o.plan) return isAbsolute(o.plan) ? o.plan : resolve(io.cwd, o.plan);
  const run = o.run ?? (io.env.ORCH_RUN || undefined) ?? (await getCurrentRun(root));
  if (run) {
    const p = runPaths(root, run).plan;
    if (existsSync(p)) return p;
  }
  return join(root, 'tasks.yaml');
}

export async function getForTaskCommand(
  task: string,
  o: { plan?: string | undefined; run?: string | undefined; json?: boolean },
  io: CommandIO,
): Promise<CommandResult> {
  const { root, ctx } = await store(io);
  const plan = await readPlanTasks(await planPath(root, o, io));
  const markdown = await ctx.getForTask(task, plan);
  if (o.json) return { exitCode: ExitCode.Ok, json: { task, markdown } };
  // The Markdown as it is, with one final newline (nothing at all when there is none).
  return { exitCode: ExitCode.Ok, lines: markdown ? [markdown.replace(/\n$/, '')] : [] };
}
