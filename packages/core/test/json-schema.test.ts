import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  SCHEMA_FILES,
  SCHEMA_NAMES,
  jsonSchemaOf,
  jsonSchemaText,
  schemaModeline,
  withModeline,
} from '../src/index.js';

/** A JSON Schema node, loosely: the test reads the parts it checks. */
interface Node {
  required?: string[];
  additionalProperties?: boolean;
  properties: Record<string, Node>;
  items: Node;
  enum?: string[];
  anyOf?: unknown[];
}

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

describe('JSON Schemas of tasks.yaml and the config', () => {
  it.each(SCHEMA_NAMES)(
    'schemas/%s: the committed file is what the code generates (run `orch schema <name>`)',
    async (name) => {
      const committed = await readFile(join(repoRoot, 'schemas', SCHEMA_FILES[name]), 'utf8');
      expect(committed).toBe(jsonSchemaText(name));
    },
  );

  it('describes what people write: tasks need an id, unknown task keys are refused, config enums are listed', () => {
    const plan = jsonSchemaOf('plan') as unknown as Node;
    expect(plan.required).toEqual(['tasks']);
    const task = plan.properties.tasks!.items;
    expect(task.required).toEqual(['id']);
    expect(task.additionalProperties).toBe(false);
    expect(Object.keys(task.properties)).toEqual(
      expect.arrayContaining(['files_write', 'depends_on', 'run']),
    );
    const config = jsonSchemaOf('config') as unknown as Node;
    expect(config.properties.merge!.properties.strategy!.enum).toEqual(['squash', 'merge']);
    expect(config.properties.notify!.properties.command!.anyOf).toHaveLength(2);
    // Defaults make keys optional for the writer.
    expect(config.properties.orchestration!.required).toBeUndefined();
  });

  it('withModeline puts the modeline first once, and keeps a schema line already there', () => {
    const once = withModeline('tasks: []\n', 'plan', '1.2.3');
    expect(once).toBe(`${schemaModeline('plan', '1.2.3')}\ntasks: []\n`);
    expect(withModeline(once, 'plan', '1.2.3')).toBe(once);
    const own = '# yaml-language-server: $schema=./mine.json\ntasks: []\n';
    expect(withModeline(own, 'plan', '1.2.3')).toBe(own);
  });

  it('the modeline points editors at the package copy of this version', () => {
    expect(schemaModeline('plan', '1.2.3')).toBe(
      '# yaml-language-server: $schema=https://unpkg.com/orch@1.2.3/schemas/tasks.schema.json',
    );
  });
});
