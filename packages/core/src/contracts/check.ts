/** `orch contracts check`: every contract of a plan exists, carries its header, and has the plan's version. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Plan } from '../plan/schema.js';
import { normalizeRepoPath } from '../glob/paths.js';
import { contractVersion, readContractHeader } from './render.js';

export type ContractStatus = 'ok' | 'missing' | 'no_header' | 'version_mismatch' | 'name_mismatch';

export interface ContractResult {
  name: string;
  file_path: string;
  expected_version: string;
  actual_version?: string;
  /** The hash of the file's content; differs from the header when the file was edited by hand. */
  content_version?: string;
  status: ContractStatus;
  message: string;
}

export interface ContractsReport {
  ok: boolean;
  contracts: ContractResult[];
  /** Problems with references: unknown `contracts_used` names, unknown consumers. */
  errors: string[];
  warnings: string[];
}

export async function checkContracts(plan: Plan, repoRoot: string): Promise<ContractsReport> {
  const results: ContractResult[] = [];
  const warnings: string[] = [];
  for (const c of plan.contracts) {
    const base = { name: c.name, file_path: c.file_path, expected_version: c.version };
    let text: string;
    try {
      text = await readFile(join(repoRoot, normalizeRepoPath(c.file_path)), 'utf8');
    } catch {
      results.push({ ...base, status: 'missing', message: `${c.file_path} does not exist` });
      continue;
    }
    const header = readContractHeader(text);
    const content = contractVersion(text);
    if (!header?.version) {
      results.push({
        ...base,
        content_version: content,
        status: 'no_header',
        message: `${c.file_path} has no "Version:" header`,
      });
      continue;
    }
    const r = { ...base, actual_version: header.version, content_version: content };
    if (header.contract !== undefined && header.contract !== c.name) {
      results.push({
        ...r,
        status: 'name_mismatch',
        message: `${c.file_path} declares contract ${header.contract}, the plan says ${c.name}`,
      });
    } else if (header.version !== c.version) {
      results.push({
        ...r,
        status: 'version_mismatch',
        message: `${c.file_path} is version ${header.version}, the plan expects ${c.version}`,
      });
    } else {
      results.push({ ...r, status: 'ok', message: `${c.name} ${c.version}` });
      if (/^[0-9a-f]{12}$/.test(header.version) && header.version !== content) {
        warnings.push(
          `${c.file_path} changed since version ${header.version} was stamped (content hash ${content})`,
        );
      }
    }
  }
  const names = new Set(plan.contracts.map((c) => c.name));
  const ids = new Set(plan.tasks.map((t) => t.id));
  const errors: string[] = [];
  for (const t of plan.tasks) {
    for (const u of t.contracts_used) {
      if (!names.has(u))
        errors.push(`task '${t.id}' uses contract '${u}', which is not listed under contracts`);
    }
  }
  for (const c of plan.contracts) {
    for (const consumer of c.consumers) {
      if (!ids.has(consumer))
        errors.push(`contract '${c.name}' names consumer '${consumer}', which is not a task`);
    }
  }
  return {
    ok: errors.length === 0 && results.every((r) => r.status === 'ok'),
    contracts: results,
    errors,
    warnings,
  };
}
