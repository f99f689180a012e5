#!/usr/bin/env node
// Refreshes vitest.durations.json (the sequencer's seconds per test file) from vitest's cache of the
// last run on this machine: run the whole `pnpm test` on a quiet machine first.
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const cacheDir = join('node_modules', '.vite', 'vitest');
const found = existsSync(cacheDir)
  ? readdirSync(cacheDir)
      .map((d) => join(cacheDir, d, 'results.json'))
      .filter((f) => existsSync(f))
  : [];
if (found.length === 0) {
  console.error(`no vitest results under ${cacheDir}: run the tests first`);
  process.exit(1);
}
const table = {};
for (const file of found) {
  for (const [key, r] of JSON.parse(readFileSync(file, 'utf8')).results) {
    const path = key.slice(key.indexOf(':') + 1);
    if (existsSync(path) && r.duration > 0) table[key] = Math.round(r.duration / 100) / 10;
  }
}
const sorted = Object.entries(table).sort(
  ([a, x], [b, y]) => a.split(':')[0].localeCompare(b.split(':')[0]) || y - x,
);
writeFileSync('vitest.durations.json', `${JSON.stringify(Object.fromEntries(sorted), null, 2)}\n`);
console.log(`vitest.durations.json: ${sorted.length} files`);
