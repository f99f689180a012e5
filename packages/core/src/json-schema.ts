/**
 * JSON Schemas of the files people write, generated from the zod schemas that read them, so an
 * editor completes and checks `tasks.yaml` and `orch.yaml` exactly as orch will. The generated
 * files are committed under `schemas/` and shipped in the package (a test keeps them equal).
 */
import { z } from 'zod';
import { Config } from './config/schema.js';
import { Plan } from './plan/schema.js';

export const SCHEMA_NAMES = ['plan', 'config'] as const;
export type SchemaName = (typeof SCHEMA_NAMES)[number];

/** The file of each schema, under `schemas/` in the repository and in the package. */
export const SCHEMA_FILES: Readonly<Record<SchemaName, string>> = {
  plan: 'tasks.schema.json',
  config: 'config.schema.json',
};

const TITLES: Readonly<Record<SchemaName, string>> = {
  plan: 'orch plan (tasks.yaml)',
  config: 'orch configuration (orch.yaml)',
};

/** Where editors fetch a schema from: the published package's copy, pinned to this version. */
export function schemaUrl(name: SchemaName, version: string): string {
  return `https://unpkg.com/orch@${version}/schemas/${SCHEMA_FILES[name]}`;
}

/** The first line of a generated YAML file, for the YAML language server (VS Code, Neovim, …). */
export function schemaModeline(name: SchemaName, version: string): string {
  return `# yaml-language-server: $schema=${schemaUrl(name, version)}`;
}

/** `text` with the modeline as its first line, unless it already names a schema. */
export function withModeline(text: string, name: SchemaName, version: string): string {
  if (/^# yaml-language-server: \$schema=/m.test(text.split('\n', 1)[0] ?? '')) return text;
  return `${schemaModeline(name, version)}\n${text}`;
}

/**
 * The schema of what a person writes (zod's input side: defaults make keys optional). Checks that
 * JSON Schema cannot say (patterns compiled as RE2, paths inside the repository) stay orch's.
 */
export function jsonSchemaOf(name: SchemaName): Record<string, unknown> {
  const schema = name === 'plan' ? Plan : Config;
  const generated = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  const { $schema, ...rest } = generated;
  return { $schema, title: TITLES[name], ...rest };
}

/** The text of a committed schema file: stable key order from the schema, two-space indent. */
export function jsonSchemaText(name: SchemaName): string {
  return `${JSON.stringify(jsonSchemaOf(name), null, 2)}\n`;
}
