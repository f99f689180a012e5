/**
 * The permission rules orch's agents need in a Claude Code settings file, and how they are merged
 * into one the user already has. A `tools:` line in an agent definition makes a tool available but
 * grants nothing, so without these rules a supervisor subagent is asked (or, headless, denied)
 * before every `orch` command.
 */
import { ERR_SETTINGS_INVALID, OrchError } from '../errors.js';

/** Every `orch …` command through the Bash tool. */
export const ORCH_BASH_RULE = 'Bash(orch:*)';
/** Every tool of the `orch` MCP server that a project's `.mcp.json` registers. */
export const ORCH_MCP_RULE = 'mcp__orch';

/** The rules to grant: the CLI always; the MCP server's tools when the project registers it. */
export function orchPermissionRules(opts: { mcp: boolean }): string[] {
  return opts.mcp ? [ORCH_BASH_RULE, ORCH_MCP_RULE] : [ORCH_BASH_RULE];
}

/** Whether a `.mcp.json` text registers a server named `orch` (anything unreadable: no). */
export function registersOrchMcp(mcpJson: string): boolean {
  try {
    const servers = (JSON.parse(mcpJson) as { mcpServers?: unknown }).mcpServers;
    return typeof servers === 'object' && servers !== null && 'orch' in servers;
  } catch {
    return false;
  }
}

export interface MergedSettings {
  /** The settings text to write (2-space JSON and a newline), or the input unchanged. */
  text: string;
  /** The rules that were missing and are now in `permissions.allow`, in order. */
  added: string[];
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Adds the missing `rules` to the end of `permissions.allow` in a settings file's text (null: no
 * file yet). Everything else is kept as it was, key order included; a rule already there (allowed,
 * or denied or asked for by the user: their choice wins) is never added or moved. A file that is
 * not a JSON object, or whose `permissions` is malformed, is refused rather than rewritten.
 */
export function mergeAllowRules(
  current: string | null,
  rules: readonly string[],
  file: string,
): MergedSettings {
  let settings: Record<string, unknown> = {};
  if (current !== null && current.trim() !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(current);
    } catch (e) {
      throw invalid(file, 'is not valid JSON', e);
    }
    if (!isRecord(parsed)) throw invalid(file, 'is not a JSON object');
    settings = parsed;
  }
  const permissions = settings['permissions'] ?? {};
  if (!isRecord(permissions)) throw invalid(file, 'has a `permissions` that is not an object');
  const lists: Record<string, string[]> = {};
  for (const key of ['allow', 'deny', 'ask']) {
    const list = permissions[key] ?? [];
    if (!Array.isArray(list) || list.some((r) => typeof r !== 'string')) {
      throw invalid(file, `has a \`permissions.${key}\` that is not a list of strings`);
    }
    lists[key] = list as string[];
  }
  const present = new Set([...lists['allow']!, ...lists['deny']!, ...lists['ask']!]);
  const added = rules.filter((r, i) => !present.has(r) && rules.indexOf(r) === i);
  if (added.length === 0 && current !== null) return { text: current, added };
  const next = { ...settings, permissions: { ...permissions, allow: [...lists['allow']!, ...added] } };
  return { text: `${JSON.stringify(next, null, 2)}\n`, added };
}

function invalid(file: string, what: string, cause?: unknown): OrchError {
  return new OrchError(ERR_SETTINGS_INVALID, `${file} ${what}; orch left it unchanged`, {
    hint: 'Fix the file (Claude Code settings are one JSON object), or run `orch install --permissions none` and add the rules yourself.',
    ...(cause === undefined ? {} : { cause }),
  });
}
