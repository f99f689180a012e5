import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Longest files first, so no long file starts last and holds the set's end while the other workers
 * idle: a set's wall then comes close to its summed time over the workers. Vitest's own order knows
 * durations only from its cache of an earlier run on this machine (a fresh clone, as in CI, has none:
 * it ran unknown and then larger files first); `vitest.durations.json` holds the seconds per file of
 * a measured whole run (`node scripts/test-durations.mjs` refreshes it from vitest's cache). A file
 * not in the table (a new one) uses the cache's duration, else counts as short.
 */
export class LongestFirst extends BaseSequencer {
  private readonly known: Record<string, number> = JSON.parse(
    readFileSync(new URL('./vitest.durations.json', import.meta.url), 'utf8'),
  ) as Record<string, number>;

  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    const seconds = (spec: TestSpecification): number => {
      const key = `${spec.project.name}:${relative(root, spec.moduleId)}`;
      const cached = this.ctx.cache.getFileTestResults(key)?.duration;
      return this.known[key] ?? (cached === undefined ? 0 : cached / 1000);
    };
    const order = new Map(files.map((f) => [f, seconds(f)]));
    return [...files].sort(
      (a, b) =>
        a.project.config.sequence.groupOrder - b.project.config.sequence.groupOrder ||
        (a.project.name < b.project.name ? -1 : a.project.name > b.project.name ? 1 : 0) ||
        (order.get(b) ?? 0) - (order.get(a) ?? 0),
    );
  }
}
