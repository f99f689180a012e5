import { parsePlan, type Plan } from '../src/index.js';

type TaskIn = Record<string, unknown> & { id: string };

/** A plan from task literals; each task gets a test verification unless it brings its own. */
export function planOf(tasks: TaskIn[], extra: Record<string, unknown> = {}): Plan {
  const doc = {
    tasks: tasks.map((t) => ({ verification: [{ command: 'true', type: 'test' }], ...t })),
    ...extra,
  };
  return parsePlan(JSON.stringify(doc), 'test.json', { allowUnknownDependencies: true });
}
