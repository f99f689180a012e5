/** Loading a plan from text or a file: parse, shape (zod), rules (validate.ts). */
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { OrchError } from '../errors.js';
import { Plan, PlanDefaults, Task, Verification } from './schema.js';
import { MAX_SOURCE_BYTES, issuesError, parseSource, type SourceDoc } from './source.js';
import { validatePlan, type ValidateOptions } from './validate.js';
import { zodToIssues } from './zod-issues.js';

export type ParsePlanOptions = ValidateOptions;

let compiledPlan: typeof Plan | undefined;
/**
 * The plan schema as zod compiles it (about twice as fast on a big plan); a plan it refuses goes
 * through zod's runtime parser, so the issues are the schema's own. Compiled on first use.
 */
const planSchema = (): typeof Plan =>
  // `z.compile` came with zod 4.6; with an older zod the runtime parser does the same job.
  (compiledPlan ??= typeof z.compile === 'function' ? z.compile(Plan) : Plan);

const HINT = 'Fix the fields listed above; docs/tasks-yaml.md describes every field of a plan.';

function knownKeysAt(path: readonly PropertyKey[]): readonly string[] {
  if (path.length === 0) return Object.keys(Plan.shape);
  if (path[0] === 'defaults' && path.length === 1) return Object.keys(PlanDefaults.shape);
  if (path[0] === 'tasks' && path.length === 2) return Object.keys(Task.shape);
  if (path[0] === 'tasks' && path[2] === 'verification' && path.length === 4)
    return Object.keys(Verification.shape);
  return [];
}

function invalid(source: string, issues: Parameters<typeof issuesError>[3]): OrchError {
  return issuesError('ERR_ORCH_PLAN_INVALID', source, 'plan', issues, HINT);
}

/**
 * Parses a plan (YAML or JSON). Every problem, from malformed text to a task that depends on
 * itself, is thrown as one `ERR_ORCH_PLAN_INVALID` whose `details.issues` lists each with its
 * position; the message lists them as `file:line:col: path: message`.
 */
export function parsePlan(text: string, source: string, opts: ParsePlanOptions = {}): Plan {
  return parsePlanSource(text, source, opts).plan;
}

/** `parsePlan`, also returning the source document (for analyzers that point at lines). */
export function parsePlanSource(
  text: string,
  source: string,
  opts: ParsePlanOptions = {},
): { plan: Plan; doc: SourceDoc } {
  try {
    const { data, doc } = parseSource(text, source, 'ERR_ORCH_PLAN_INVALID', 'plan', HINT);
    const parsed = planSchema().safeParse(data);
    if (!parsed.success) {
      const issues =
        data === null || typeof data !== 'object' || Array.isArray(data)
          ? [
              doc.issue(
                [],
                `expected a mapping with a "tasks" list, got ${data === null || data === undefined ? 'an empty document' : Array.isArray(data) ? 'a list' : typeof data}`,
              ),
            ]
          : zodToIssues(parsed.error, data, doc, knownKeysAt);
      throw invalid(source, issues);
    }
    const plan = parsed.data;
    const issues = validatePlan(plan, doc, opts);
    if (issues.length > 0) throw invalid(source, issues);
    return { plan, doc };
  } catch (e) {
    if (e instanceof OrchError) throw e;
    // Anything else (a stack overflow deep in a library) is still just an invalid plan.
    throw invalid(source, [
      { path: '(document)', message: `cannot be read: ${e instanceof Error ? e.message : String(e)}` },
    ]);
  }
}

/**
 * The absolute path of the plan a command names: `path` from `cwd`, or else a relative path from
 * the repository root (so `orch run` in a subdirectory finds the root's tasks.yaml). When neither
 * exists, the path from `cwd`, for the not-found error.
 */
export function findPlanFile(path: string, cwd: string, repoRoot: string): string {
  const here = resolve(cwd, path);
  if (existsSync(here) || isAbsolute(path)) return here;
  const atRoot = resolve(repoRoot, path);
  return existsSync(atRoot) ? atRoot : here;
}

/**
 * Reads and parses a plan file; a missing, oversized or binary file is an OrchError too. A relative
 * `path` is taken from `cwd` (default: the process's), and messages quote it as given.
 */
export async function loadPlan(
  path: string,
  { cwd, ...opts }: ParsePlanOptions & { cwd?: string } = {},
): Promise<{ plan: Plan; path: string; doc: SourceDoc }> {
  const full = resolve(cwd ?? process.cwd(), path);
  let size: number;
  try {
    const st = await stat(full);
    if (!st.isFile())
      throw new OrchError('ERR_ORCH_PLAN_NOT_FOUND', `${path} is not a file`, {
        hint: 'Pass the path of a tasks.yaml (or .json) plan.',
      });
    size = st.size;
  } catch (e) {
    if (e instanceof OrchError) throw e;
    throw new OrchError('ERR_ORCH_PLAN_NOT_FOUND', `plan file ${path} does not exist or cannot be read`, {
      hint: 'Pass the path of a tasks.yaml (or .json) plan, e.g. `orch plan check tasks.yaml`.',
      cause: e,
    });
  }
  if (size > MAX_SOURCE_BYTES) {
    throw invalid(path, [
      { path: '(document)', message: `the file is ${size} bytes; the limit is ${MAX_SOURCE_BYTES} (16 MB)` },
    ]);
  }
  const bytes = await readFile(full);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw invalid(path, [
      { path: '(document)', message: 'is not UTF-8 text (binary bytes); expected a YAML or JSON text file' },
    ]);
  }
  return { ...parsePlanSource(text, path, opts), path: full };
}
