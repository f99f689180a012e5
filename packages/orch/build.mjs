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
 * `createRequire(import.meta.url)('x')` is how the workspace loads a library synchronously on first
 * use; in the bundle it becomes a plain `require('x')`, which esbuild bundles as a module that is
 * evaluated on the first call, so the library ships inside and stays lazy.
 */
const lazyRequires = {
  name: 'lazy-requires',
  setup(b) {
    b.onLoad({ filter: /[\\/]packages[\\/][^\\/]+[\\/]dist[\\/].*\.js$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      if (!text.includes('createRequire(import.meta.url)(')) return undefined;
      return {
        contents: text.replace(/createRequire\(import\.meta\.url\)\(/g, 'require('),
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
    plugins: [lazyRequires],
  });
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
