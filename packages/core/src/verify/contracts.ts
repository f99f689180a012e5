/**
 * The contract check: a contract file (plan `contracts[].file_path`) may change only in a task that
 * owns it (its files_write covers the file), and the file's `Version:` header must equal the plan's
 * version for every contract the task owns, uses or changed.
 */
import type { Contract, Plan, Task } from '../plan/schema.js';
import type { ContractCheck } from './report.js';
import { readContractHeader } from '../contracts/render.js';
import { firstMatch, cleanPath } from '../glob/path-patterns.js';

/** The `Version:` header of a contract file: the same reading as `orch contracts check`. */
export function contractVersionHeader(content: string): string | undefined {
  return readContractHeader(content)?.version || undefined;
}

/** Ids of the tasks whose files_write covers `filePath`. */
export function contractOwnerTasks(filePath: string, plan: Pick<Plan, 'tasks'>): string[] {
  return plan.tasks.filter((t) => firstMatch(t.files_write, filePath) !== undefined).map((t) => t.id);
}

function uses(task: Pick<Task, 'contracts_used'>, c: Contract): boolean {
  return task.contracts_used.some((u) => u === c.name || cleanPath(u) === cleanPath(c.file_path));
}

export function checkTaskContracts(input: {
  task: Pick<Task, 'id' | 'contracts_used'>;
  plan: Pick<Plan, 'tasks' | 'contracts'>;
  /** Paths changed from the base commit to the head. */
  changed: readonly string[];
  /** The content of each contract file at the head, null when absent; read by the caller. */
  contents: Readonly<Record<string, string | null>>;
}): ContractCheck {
  const problems: string[] = [];
  const changed = new Set(input.changed.map(cleanPath));
  for (const c of input.plan.contracts) {
    const file = cleanPath(c.file_path);
    const owners = contractOwnerTasks(file, input.plan);
    const owns = owners.includes(input.task.id);
    const touched = changed.has(file);
    if (touched && !owns) {
      const by = owners.length > 0 ? `owned by ${owners.join(', ')}` : 'owned by no task';
      problems.push(`${file} (contract ${c.name}) was changed, but it is ${by}`);
    }
    if (!owns && !touched && !uses(input.task, c)) continue;
    const content = input.contents[file] ?? input.contents[c.file_path] ?? null;
    if (content === null) {
      problems.push(`${file} (contract ${c.name}, version ${c.version}) is missing`);
      continue;
    }
    const v = contractVersionHeader(content);
    if (v === undefined)
      problems.push(`${file} (contract ${c.name}) has no "Version:" header; the plan says ${c.version}`);
    else if (v !== c.version)
      problems.push(`${file} (contract ${c.name}) is version ${v}; the plan says ${c.version}`);
  }
  return { ok: problems.length === 0, problems };
}
