import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { OrchError } from '@orch/core';

const name = z.string().regex(/^[a-z][a-z0-9-]{0,63}$/, 'lowercase letters, digits and hyphens');
/**
 * A Claude Code tool name, optionally with a permission pattern (`Read`, `Bash(git log:*)`), or an
 * MCP server's tools (`mcp__orch`) or one of them (`mcp__orch__run_wait`).
 */
const TOOL_RE = /^(?:[A-Z][A-Za-z]*(\([^()]+\))?|mcp__[A-Za-z0-9_-]+)$/;
const toolList = z
  .string()
  .min(1)
  .refine(
    (s) => splitTools(s).every((t) => TOOL_RE.test(t)),
    'comma-separated tool names such as "Read, Bash(git:*)"',
  );

/** Frontmatter of a Claude Code agent definition (`agents/*.md`). */
export const AgentFrontmatter = z.strictObject({
  name,
  description: z.string().min(20).max(1024),
  tools: toolList,
  model: z.enum(['opus', 'sonnet', 'haiku', 'inherit']),
  color: z.string().optional(),
});
export type AgentFrontmatter = z.infer<typeof AgentFrontmatter>;

/** Frontmatter of a Claude Code skill (`skills/<name>/SKILL.md`). */
export const SkillFrontmatter = z.strictObject({
  name,
  description: z.string().min(20).max(1024),
  'argument-hint': z.string().optional(),
  'allowed-tools': toolList.optional(),
});
export type SkillFrontmatter = z.infer<typeof SkillFrontmatter>;

export function splitTools(tools: string): string[] {
  // Commas inside a permission pattern (`Bash(a,b)`) do not separate tools.
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of tools) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(current.trim());
      current = '';
    } else current += ch;
  }
  if (current.trim() !== '') out.push(current.trim());
  return out;
}

export interface Frontmatter {
  data: unknown;
  body: string;
}

/** Splits `---\n<yaml>\n---\n<body>`; throws when the block is missing or not YAML. */
export function parseFrontmatter(text: string, file = 'file'): Frontmatter {
  const m = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?([\s\S]*)$/.exec(text);
  if (!m) {
    throw new OrchError('ERR_ORCH_FRONTMATTER', `${file} does not start with a --- frontmatter block`);
  }
  try {
    return { data: parseYaml(m[1] ?? ''), body: m[2] ?? '' };
  } catch (e) {
    throw new OrchError(
      'ERR_ORCH_FRONTMATTER',
      `${file}: frontmatter is not valid YAML: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
}

/** The Markdown body of an agent definition, without its frontmatter (what the engine appends as a system prompt). */
export function agentBody(text: string, file?: string): string {
  return parseFrontmatter(text, file).body.trim();
}
