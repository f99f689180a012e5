#!/usr/bin/env node
// Builds the `orch` npm package in this folder from the workspace's compiled packages (run
// `pnpm build` first): one ESM bundle of the cli and every internal package and dependency, split
// at the cli's lazy imports so `orch --version` loads only the entry, plus copies of the files orch
// ships (agents, engine roles, skill, contract templates, the plugin's manifest and bin/, LICENSE,
// README). The package folder is then the Claude Code plugin too.
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');
const entry = join(repo, 'packages', 'cli', 'dist', 'bin.js');

/** Copied from the repository root into the package; git-ignored here. */
const SHIPPED = [
  'agents',
  'roles',
  'skills',
  'contracts-templates',
  '.claude-plugin',
  'bin',
  'schemas',
  '.mcp.json',
  'LICENSE',
  'README.md',
];

const readJson = async (file) => JSON.parse(await readFile(file, 'utf8'));

async function checkVersions() {
  const own = (await readJson(join(here, 'package.json'))).version;
  const others = {
    'packages/cli/package.json': (await readJson(join(repo, 'packages', 'cli', 'package.json'))).version,
    '.claude-plugin/plugin.json': (await readJson(join(repo, '.claude-plugin', 'plugin.json'))).version,
  };
  for (const [file, version] of Object.entries(others)) {
    if (version !== own) {
      throw new Error(`version mismatch: packages/orch/package.json has ${own}, ${file} has ${version}`);
    }
  }
  return own;
}

/**
 * Libraries the workspace loads synchronously on first use (`createRequire(import.meta.url)('x')`):
 * each becomes its own CommonJS file beside the chunks, required from there on that first use, so
 * the chunk of a command that may need one does not carry it (re2js alone is 150 KB).
 */
const LAZY = ['yaml', 're2js', 'js-yaml'];
const lazyFile = (name) => `./lazy-${name}.cjs`;

/**
 * Two rewrites of the workspace's compiled files on their way into the bundle:
 * - `createRequire(import.meta.url)('x')` of a LAZY library becomes `require('./lazy-x.cjs')`
 *   (left to Node at run time; the banner's `require` resolves it beside the chunk);
 * - `import { z } from 'zod'` takes zod's namespace object, which esbuild must keep whole (every
 *   locale, the JSON Schema converters: about half of the chunk every command that validates
 *   loads); as `import * as z` only the members used are bundled.
 */
const rewrites = {
  name: 'rewrites',
  setup(b) {
    b.onResolve({ filter: /^\.\/lazy-[\w-]+\.cjs$/ }, (args) => ({ path: args.path, external: true }));
    b.onLoad({ filter: /[\\/]packages[\\/][^\\/]+[\\/]dist[\\/].*\.js$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      const lazy = text.includes('createRequire(import.meta.url)(');
      const zod = /^import \{ z \} from 'zod';$/m.test(text);
      if (!lazy && !zod) return undefined;
      return {
        contents: text
          .replace(/createRequire\(import\.meta\.url\)\('([^']+)'\)/g, (call, name) => {
            if (!LAZY.includes(name)) throw new Error(`${args.path}: add ${name} to LAZY in build.mjs`);
            return `require(${JSON.stringify(lazyFile(name))})`;
          })
          .replace(/^import \{ z \} from 'zod';$/gm, "import * as z from 'zod';"),
        loader: 'js',
      };
    });
  },
};

/** The license texts of the bundled dependencies, which their licenses ask to ship with them. */
async function thirdPartyNotices(metafile) {
  const dirs = new Set();
  for (const input of Object.keys(metafile.inputs)) {
    const parts = input.split(/[\\/]/);
    const at = parts.lastIndexOf('node_modules');
    if (at < 0) continue;
    const scoped = parts[at + 1]?.startsWith('@');
    dirs.add(parts.slice(0, at + (scoped ? 3 : 2)).join(sep));
  }
  const sections = [];
  for (const dir of [...dirs].sort()) {
    const pkg = await readJson(join(repo, dir, 'package.json'));
    const names = ['LICENSE', 'LICENSE.md', 'LICENSE.txt', 'license', 'license.md', 'LICENCE'];
    const file = names.map((n) => join(repo, dir, n)).find((f) => existsSync(f));
    const text = file ? (await readFile(file, 'utf8')).trim() : `License: ${pkg.license ?? 'unknown'}`;
    sections.push(`## ${pkg.name}@${pkg.version} (${pkg.license ?? 'unknown'})\n\n${text}\n`);
  }
  return `# Third-party software bundled in orch\n\n${sections.join('\n')}`;
}

async function main() {
  if (!existsSync(entry)) throw new Error(`${relative(repo, entry)} is missing: run \`pnpm build\` first`);
  const version = await checkVersions();
  const dist = join(here, 'dist');
  await rm(dist, { recursive: true, force: true });
  const result = await build({
    entryPoints: { bin: entry },
    outdir: dist,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.19',
    // Chunks sit beside bin.js, so `../package.json` from any of them is the package's manifest.
    chunkNames: '[name]-[hash]',
    minify: true,
    keepNames: true,
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
    // Only loaded by ink when DEV=true, for the React devtools; not shipped.
    external: ['react-devtools-core'],
    // CommonJS dependencies call require() for Node's builtins.
    banner: {
      js: "import { createRequire as __orchCreateRequire } from 'node:module'; const require = __orchCreateRequire(import.meta.url);",
    },
    plugins: [rewrites],
  });
  for (const name of LAZY) {
    const lazy = await build({
      stdin: {
        contents: `module.exports = require(${JSON.stringify(name)});`,
        resolveDir: join(repo, 'packages', 'core'),
      },
      outfile: join(dist, lazyFile(name)),
      bundle: true,
      format: 'cjs',
      platform: 'node',
      target: 'node20.19',
      minify: true,
      keepNames: true,
      legalComments: 'none',
      metafile: true,
      logLevel: 'warning',
    });
    for (const [k, v] of Object.entries(lazy.metafile.inputs)) result.metafile.inputs[k] ??= v;
    for (const [k, v] of Object.entries(lazy.metafile.outputs)) result.metafile.outputs[k] = v;
  }
  await writeFile(join(dist, 'THIRD-PARTY-NOTICES.md'), await thirdPartyNotices(result.metafile));
  for (const name of SHIPPED) {
    await rm(join(here, name), { recursive: true, force: true });
    await cp(join(repo, name), join(here, name), { recursive: true });
  }
  const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
  const files = Object.keys(result.metafile.outputs).length;
  process.stdout.write(
    `orch ${version}: ${files} files, ${(bytes / 1024).toFixed(0)} KiB in ${relative(repo, dist)}\n`,
  );
}

await main();
