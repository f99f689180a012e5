/** Reading `.claude-agents.yaml` with the same positioned errors as plans. */
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { OrchError } from '../errors.js';
import type { z } from 'zod';
import {
  MAX_SOURCE_BYTES,
  didYouMean,
  formatIssues,
  issuesError,
  parseSource,
  type SourceDoc,
  type SourceIssue,
} from '../plan/source.js';
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

/** The keys a config section knows (through optional/default wrappers); empty when it is not an object. */
function keysOf(schema: z.ZodType): string[] {
  let s = schema as unknown as { shape?: Record<string, unknown>; _zod: { def: { innerType?: unknown } } };
  while (!s.shape && s._zod.def.innerType) s = s._zod.def.innerType as typeof s;
  return s.shape ? Object.keys(s.shape) : [];
}

/**
 * Keys orch does not know, at the top and in each known section. The schema lets them through
 * (the seed's files carry sections of their own), so a typo would silently mean a default.
 */
function unknownKeys(data: unknown, doc: SourceDoc): SourceIssue[] {
  const out: SourceIssue[] = [];
  const isMap = (v: unknown): v is Record<string, unknown> =>
    v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isMap(data)) return out;
  const check = (value: Record<string, unknown>, known: string[], path: string[]): void => {
    for (const key of Object.keys(value)) {
      if (known.includes(key)) continue;
      const near = didYouMean(key, known);
      out.push(doc.issue(path, `unknown key, ignored${near ? ` (did you mean "${near}"?)` : ''}`, key));
    }
  };
  const sections = Config.shape as Record<string, z.ZodType>;
  check(data, Object.keys(sections), []);
  for (const [name, schema] of Object.entries(sections)) {
    const value = data[name];
    const known = keysOf(schema);
    if (isMap(value) && known.length > 0) check(value, known, [name]);
  }
  return out;
}

/** Parses config text; an empty document means the defaults. */
export function parseConfig(text: string, source: string): Config {
  return parseConfigSource(text, source).config;
}

/** `parseConfig`, with a warning (`file:line:col: path: message`) for each unknown key. */
export function parseConfigSource(text: string, source: string): { config: Config; warnings: string[] } {
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
  const unknown = unknownKeys(data, doc);
  return { config, warnings: unknown.length > 0 ? formatIssues(source, unknown).split('\n') : [] };
}

/**
 * The configuration of a repository: `explicitPath` when given (it must exist), else the first
 * of `.claude-agents.yaml` / `.yml` at `repoRoot`, else the defaults.
 */
export async function loadConfig(repoRoot: string, explicitPath?: string): Promise<Config> {
  return (await loadConfigSource(repoRoot, explicitPath)).config;
}

/** `loadConfig`, with the warnings about unknown keys (for commands that show them). */
export async function loadConfigSource(
  repoRoot: string,
  explicitPath?: string,
): Promise<{ config: Config; warnings: string[] }> {
  if (explicitPath !== undefined) {
    const full = isAbsolute(explicitPath) ? explicitPath : resolve(explicitPath);
    const text = await readText(full);
    if (text === undefined) {
      throw new OrchError('ERR_ORCH_CONFIG_NOT_FOUND', `config file ${explicitPath} does not exist`, {
        hint: `Check the path given to --config, or leave it out to use ${CONFIG_FILES[0]} at the repository root.`,
      });
    }
    return parseConfigSource(text, explicitPath);
  }
  for (const name of CONFIG_FILES) {
    const text = await readText(join(repoRoot, name));
    if (text !== undefined) return parseConfigSource(text, name);
  }
  return { config: Config.parse({}), warnings: [] };
}
