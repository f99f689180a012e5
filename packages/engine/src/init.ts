/**
 * `orch init`: a commented config (`orch.yaml`) and a sample plan (`tasks.yaml`) for the repository,
 * with the detected package manager and test command. It never overwrites: when either file, or any
 * other config file orch would read, exists, nothing is written.
 */
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CONFIG_FILES, OrchError, starterConfig, starterPlan } from '@orch/core';
import { detectCommands, type ProjectCommands } from './integrate/detect.js';

export const INIT_CONFIG_FILE = CONFIG_FILES[0];
export const INIT_PLAN_FILE = 'tasks.yaml';

export interface InitResult {
  /** Repository-relative paths written, config first. */
  files: string[];
  detected: Pick<ProjectCommands, 'test' | 'packageManager'>;
}

export async function initRepository(repoRoot: string, opts: { version: string }): Promise<InitResult> {
  const existing = [...CONFIG_FILES, INIT_PLAN_FILE].filter((f) => existsSync(join(repoRoot, f)));
  if (existing.length > 0) {
    throw new OrchError(
      'ERR_ORCH_INIT_EXISTS',
      `${existing.join(', ')} already exist${existing.length === 1 ? 's' : ''} in ${repoRoot}; nothing was written`,
      {
        hint: 'orch init only starts a repository that has neither a config nor tasks.yaml. Edit the existing file (`orch config` shows the effective values, `orch schema config` every key), or move it away and run orch init again.',
      },
    );
  }
  const found = await detectCommands(repoRoot);
  const detected = {
    ...(found.test ? { test: found.test } : {}),
    ...(found.packageManager ? { packageManager: found.packageManager } : {}),
  };
  const facts = { ...detected, version: opts.version };
  const files: [string, string][] = [
    [INIT_CONFIG_FILE, starterConfig(facts)],
    [INIT_PLAN_FILE, starterPlan(facts)],
  ];
  const written: string[] = [];
  try {
    // `wx`: a file that appeared since the check above is never replaced.
    for (const [name, text] of files) {
      await writeFile(join(repoRoot, name), text, { flag: 'wx' });
      written.push(name);
    }
  } catch (e) {
    for (const name of written) await rm(join(repoRoot, name), { force: true });
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    throw new OrchError(
      'ERR_ORCH_INIT_EXISTS',
      `a file orch init writes appeared while it ran in ${repoRoot}; nothing was written`,
      {
        hint: 'Run orch init again once nothing else writes orch.yaml or tasks.yaml.',
      },
    );
  }
  return { files: written, detected };
}
