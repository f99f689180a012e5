import { readFileSync } from 'node:fs';

/**
 * orch's version, from the package.json one folder above this module: the cli package's in a working
 * copy (`packages/cli/dist/`), the `orch` package's once bundled (`dist/` at the package root).
 */
export const VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
