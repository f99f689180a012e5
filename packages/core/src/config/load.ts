/** Reading `.claude-agents.yaml` with the same positioned errors as plans. */
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { OrchError } from '../errors.js';
import { MAX_SOURCE_BYTES, issuesError, parseSource, type SourceIssue } from '../plan/source.js';
import { zodToIssues } from '../plan/zod-issues.js';
import { compileSensitivePattern } from '../analyze/risk.js';
import { CONFIG_FILES, Config, SensitivePattern } from './schema.js';

const HINT = 'Fix the fields listed above in the config file, or remove the file to use the defaults.';

async function readText(path: string): Promise<string | undefined> {
  try {
    const bytes = await readFile(path);
    if (bytes.length > MAX_SOURCE_BYTES) {
      throw issuesError(
        'ERR_ORCH_CONFIG_INVALID',
        path,
        'config',
        [{ path: '(document)', message: 'the file is larger than 16 MB' }],
        HINT,
      );
    }
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (e) {
    if (e instanceof OrchError) throw e;
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw issuesError(
      'ERR_ORCH_CONFIG_INVALID',
      path,
      'config',
      [{ path: '(document)', message: 'cannot be read as UTF-8 text' }],
      HINT,
    );
  }
}

/** Parses config text; an empty document means the defaults. */
export function parseConfig(text: string, source: string): Config {
  const { data, doc } = parseSource(text, source, 'ERR_ORCH_CONFIG_INVALID', 'config', HINT);
  const parsed = Config.safeParse(data ?? {});
  if (!parsed.success) {
    const known = (path: readonly PropertyKey[]): readonly string[] =>
      path.length === 0
        ? Object.keys(Config.shape)
        : path.at(-2) === 'sensitive_patterns'
          ? Object.keys(SensitivePattern.options[1].shape)
          : [];
    throw issuesError(
      'ERR_ORCH_CONFIG_INVALID',
      source,
      'config',
      zodToIssues(parsed.error, data, doc, known),
      HINT,
    );
  }
  const config = parsed.data;
  const issues: SourceIssue[] = [];
  for (const section of ['risk', 'approval'] as const) {
    config[section]?.sensitive_patterns?.forEach((p, i) => {
      const pattern = typeof p === 'string' ? p : p.pattern;
      try {
        compileSensitivePattern(pattern, 0);
      } catch (e) {
        const path = [section, 'sensitive_patterns', i, ...(typeof p === 'string' ? [] : ['pattern'])];
        issues.push(doc.issue(path, e instanceof Error ? e.message : String(e)));
      }
    });
  }
  if (issues.length > 0) throw issuesError('ERR_ORCH_CONFIG_INVALID', source, 'config', issues, HINT);
  return config;
}

/**
 * The configuration of a repository: `explicitPath` when given (it must exist), else the first
 * of `.claude-agents.yaml` / `.yml` at `repoRoot`, else the defaults.
 */
export async function loadConfig(repoRoot: string, explicitPath?: string): Promise<Config> {
  if (explicitPath !== undefined) {
    const full = isAbsolute(explicitPath) ? explicitPath : resolve(explicitPath);
    const text = await readText(full);
    if (text === undefined) {
      throw new OrchError('ERR_ORCH_CONFIG_NOT_FOUND', `config file ${explicitPath} does not exist`, {
        hint: `Check the path given to --config, or leave it out to use ${CONFIG_FILES[0]} at the repository root.`,
      });
    }
    return parseConfig(text, explicitPath);
  }
  for (const name of CONFIG_FILES) {
    const text = await readText(join(repoRoot, name));
    if (text !== undefined) return parseConfig(text, name);
  }
  return Config.parse({});
}
