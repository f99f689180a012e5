/** Reading the config file (`orch.yaml`, …) with the same positioned errors as plans. */
import { existsSync } from 'node:fs';
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
 * The configuration of a repository: `explicitPath` when given (it must exist), else the first of
 * `CONFIG_FILES` at `repoRoot` (`orch.yaml`, `.orch/config.yaml`, the seed's `.claude-agents.yaml`,
 * `.claude-agents.yml`), else the defaults. Files are never merged: the first one found is the config.
 */
export async function loadConfig(repoRoot: string, explicitPath?: string): Promise<Config> {
  return (await loadConfigSource(repoRoot, explicitPath)).config;
}

interface FoundConfig {
  text: string;
  /** As shown to people: the path given, or the file's name relative to the repository root. */
  source: string;
  /** Lower-precedence config files that exist too, and are therefore not read. */
  shadowed: string[];
}

async function findConfig(repoRoot: string, explicitPath?: string): Promise<FoundConfig | undefined> {
  if (explicitPath !== undefined) {
    const full = isAbsolute(explicitPath) ? explicitPath : resolve(explicitPath);
    const text = await readText(full);
    if (text === undefined) {
      throw new OrchError('ERR_ORCH_CONFIG_NOT_FOUND', `config file ${explicitPath} does not exist`, {
        hint: `Check the path given to --config, or leave it out to use ${CONFIG_FILES[0]} at the repository root.`,
      });
    }
    return { text, source: explicitPath, shadowed: [] };
  }
  let found: FoundConfig | undefined;
  for (const name of CONFIG_FILES) {
    if (found) {
      if (existsSync(join(repoRoot, name))) found.shadowed.push(name);
      continue;
    }
    const text = await readText(join(repoRoot, name));
    if (text !== undefined) found = { text, source: name, shadowed: [] };
  }
  return found;
}

const shadowWarnings = (found: FoundConfig): string[] =>
  found.shadowed.map((n) => `${n} is not read: ${found.source} comes first (merge them into one file)`);

/** `loadConfig`, with the warnings about unknown keys and unread files (for commands that show them). */
export async function loadConfigSource(
  repoRoot: string,
  explicitPath?: string,
): Promise<{ config: Config; warnings: string[]; source?: string }> {
  const found = await findConfig(repoRoot, explicitPath);
  if (!found) return { config: Config.parse({}), warnings: [] };
  const { config, warnings } = parseConfigSource(found.text, found.source);
  return { config, warnings: [...warnings, ...shadowWarnings(found)], source: found.source };
}

/** One value of the effective config and where it came from. */
export interface ConfigValue {
  /** `section.key`, or a top-level key. */
  key: string;
  value: unknown;
  /** `default`, or `file:line:column` of the key that set it. */
  from: string;
}

/**
 * The effective config, value by value, each with its origin: what `orch config` prints. There
 * are no environment overrides of config values; `orch run --max-workers` and a plan's
 * `defaults:` act per run and are not config.
 */
export async function explainConfig(
  repoRoot: string,
  explicitPath?: string,
): Promise<{ config: Config; source?: string; values: ConfigValue[]; warnings: string[] }> {
  const found = await findConfig(repoRoot, explicitPath);
  if (!found)
    return { config: Config.parse({}), values: describe(Config.parse({}), undefined), warnings: [] };
  const { config, warnings } = parseConfigSource(found.text, found.source);
  const { data, doc } = parseSource(found.text, found.source, 'ERR_ORCH_CONFIG_INVALID', 'config', HINT);
  return {
    config,
    source: found.source,
    values: describe(config, { data, doc, source: found.source }),
    warnings: [...warnings, ...shadowWarnings(found)],
  };
}

function describe(
  config: Config,
  file: { data: unknown; doc: SourceDoc; source: string } | undefined,
): ConfigValue[] {
  const isMap = (v: unknown): v is Record<string, unknown> =>
    v !== null && typeof v === 'object' && !Array.isArray(v);
  const raw = file && isMap(file.data) ? file.data : {};
  const origin = (path: string[]): string => {
    if (!file) return 'default';
    let v: unknown = raw;
    for (const k of path) v = isMap(v) ? v[k] : undefined;
    if (v === undefined) return 'default';
    const pos = file.doc.locate(path.slice(0, -1), path.at(-1));
    return pos ? `${file.source}:${pos.line}:${pos.column}` : file.source;
  };
  const out: ConfigValue[] = [];
  const known = Config.shape as Record<string, z.ZodType>;
  for (const section of Object.keys(known)) {
    const value = (config as Record<string, unknown>)[section];
    if (value === undefined) continue;
    const keys = keysOf(known[section]!);
    if (!isMap(value) || keys.length === 0) {
      out.push({ key: section, value, from: origin([section]) });
      continue;
    }
    for (const key of keys) {
      if (value[key] === undefined) continue;
      out.push({ key: `${section}.${key}`, value: value[key], from: origin([section, key]) });
    }
  }
  return out;
}
