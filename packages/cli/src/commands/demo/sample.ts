/**
 * The demo's sample project: `textkit`, a small text toolkit in plain Node ESM (`.mjs`) whose
 * tests run with Node's own `node --test`, so it needs no install. The base commit holds one module;
 * the plan's seven tasks add the rest in three dependency waves.
 */
import { shellQuote } from '@orch/core';

/** Files of the base commit. */
export const BASE_FILES: Record<string, string> = {
  'README.md': `# textkit

A small text toolkit, written by the seven shell workers of \`orch demo\`.

Run the tests with \`node --test\` (Node 20, nothing to install).
`,
  'package.json': `${JSON.stringify(
    {
      name: 'textkit',
      version: '0.1.0',
      private: true,
      type: 'module',
      scripts: { test: 'node --test' },
    },
    null,
    2,
  )}\n`,
  // orch's settings: the incremental and final checks run the whole suite with Node's runner.
  '.claude-agents.yaml': `orchestration:
  max_parallel_workers: 4
  max_retries: 2
verification:
  integration_command: node --test
`,
  'src/words.mjs': `/** The words of a text: runs of letters, digits and apostrophes. */
export function words(text) {
  return text.match(/[\\p{L}\\p{N}']+/gu) ?? [];
}
`,
  'test/words.test.mjs': `import assert from 'node:assert/strict';
import { test } from 'node:test';
import { words } from '../src/words.mjs';

test('words splits on spaces and punctuation', () => {
  assert.deepEqual(words("Hello, world! It's 2 o'clock."), ['Hello', 'world', "It's", '2', "o'clock"]);
  assert.deepEqual(words('  '), []);
});
`,
};

export interface SampleTask {
  id: string;
  description: string;
  dependsOn: string[];
  /** Modules it imports (written by the base commit or by tasks it depends on). */
  reads: string[];
  /** Files the task writes: its module and its test. */
  files: Record<string, string>;
  test: string;
  summary: string;
  /** The first attempt also edits this file, which the task does not own. */
  strayOnFirstAttempt?: { path: string; append: string };
}

export const SAMPLE_TASKS: SampleTask[] = [
  {
    id: 'slug',
    reads: [],
    description: 'slugify(): URL-safe anchors from headings',
    dependsOn: [],
    test: 'test/slug.test.mjs',
    summary: 'slugify() with accents folded',
    files: {
      'src/slug.mjs': `/** A URL-safe slug: lower case, accents folded, other characters become single dashes. */
export function slugify(text) {
  return text
    .normalize('NFKD')
    .replace(/\\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}
`,
      'test/slug.test.mjs': `import assert from 'node:assert/strict';
import { test } from 'node:test';
import { slugify } from '../src/slug.mjs';

test('slugify folds accents and collapses separators', () => {
  assert.equal(slugify('Crème Brûlée: A Recipe!'), 'creme-brulee-a-recipe');
  assert.equal(slugify('  --Hello   World--  '), 'hello-world');
  assert.equal(slugify(''), '');
});
`,
    },
  },
  {
    id: 'wrap',
    reads: [],
    description: 'wrap(): greedy word wrap to a width',
    dependsOn: [],
    test: 'test/wrap.test.mjs',
    summary: 'wrap() keeps long words whole',
    files: {
      'src/wrap.mjs': `/** Greedy word wrap: lines of at most \`width\` characters; a longer word gets a line of its own. */
export function wrap(text, width = 72) {
  const lines = [];
  let line = '';
  for (const word of text.split(/\\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? \`\${line} \${word}\` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}
`,
      'test/wrap.test.mjs': `import assert from 'node:assert/strict';
import { test } from 'node:test';
import { wrap } from '../src/wrap.mjs';

test('wrap breaks between words', () => {
  assert.deepEqual(wrap('the quick brown fox jumps', 10), ['the quick', 'brown fox', 'jumps']);
});

test('wrap keeps a word longer than the width whole', () => {
  assert.deepEqual(wrap('a extraordinarily b', 5), ['a', 'extraordinarily', 'b']);
  assert.deepEqual(wrap('   ', 5), []);
});
`,
    },
  },
  {
    id: 'stats',
    reads: ['src/words.mjs'],
    description: 'stats(): words, sentences and reading time',
    dependsOn: [],
    test: 'test/stats.test.mjs',
    summary: 'stats() on top of words()',
    files: {
      'src/stats.mjs': `import { words } from './words.mjs';

/** Counts of a text; reading time at 200 words a minute, rounded up. */
export function stats(text) {
  const count = words(text).length;
  const sentences = (text.match(/[^.!?]*[\\p{L}\\p{N}][^.!?]*[.!?]+/gu) ?? []).length;
  return { words: count, sentences, minutes: Math.ceil(count / 200) };
}
`,
      'test/stats.test.mjs': `import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stats } from '../src/stats.mjs';

test('stats counts words and sentences', () => {
  assert.deepEqual(stats('One two. Three four five! Six?'), { words: 6, sentences: 3, minutes: 1 });
  assert.deepEqual(stats(''), { words: 0, sentences: 0, minutes: 0 });
});
`,
    },
  },
  {
    id: 'toc',
    reads: ['src/slug.mjs'],
    description: 'toc(): a table of contents from Markdown headings',
    dependsOn: ['slug'],
    test: 'test/toc.test.mjs',
    summary: 'toc() with slug anchors, inside its own files this time',
    strayOnFirstAttempt: {
      path: 'README.md',
      append: '\n## Table of contents\n\n`toc(markdown)` lists the headings of a Markdown text.\n',
    },
    files: {
      'src/toc.mjs': `import { slugify } from './slug.mjs';

/** The headings of a Markdown text (outside code fences) with their anchors. */
export function headings(markdown) {
  const out = [];
  let fenced = false;
  for (const line of markdown.split('\\n')) {
    if (/^\\s*\`\`\`/.test(line)) fenced = !fenced;
    const m = fenced ? null : /^(#{1,6})\\s+(.+?)\\s*#*\\s*$/.exec(line);
    if (m) out.push({ level: m[1].length, title: m[2], anchor: slugify(m[2]) });
  }
  return out;
}

/** A Markdown list of links to the headings, indented by level. */
export function toc(markdown) {
  const hs = headings(markdown);
  const top = Math.min(...hs.map((h) => h.level));
  return hs.map((h) => \`\${'  '.repeat(h.level - top)}- [\${h.title}](#\${h.anchor})\`).join('\\n');
}
`,
      'test/toc.test.mjs': `import assert from 'node:assert/strict';
import { test } from 'node:test';
import { headings, toc } from '../src/toc.mjs';

const doc = ['# Intro', 'text', '## Getting Started', '\`\`\`', '# not a heading', '\`\`\`', '## Crème'].join('\\n');

test('headings skips code fences and slugs anchors', () => {
  assert.deepEqual(
    headings(doc).map((h) => h.anchor),
    ['intro', 'getting-started', 'creme'],
  );
});

test('toc indents by level', () => {
  assert.equal(toc(doc), '- [Intro](#intro)\\n  - [Getting Started](#getting-started)\\n  - [Crème](#creme)');
});
`,
    },
  },
  {
    id: 'summary',
    reads: ['src/stats.mjs', 'src/wrap.mjs', 'src/words.mjs'],
    description: 'summarize(): counts and a wrapped first sentence',
    dependsOn: ['stats', 'wrap'],
    test: 'test/summary.test.mjs',
    summary: 'summarize() from stats() and wrap()',
    files: {
      'src/summary.mjs': `import { stats } from './stats.mjs';
import { wrap } from './wrap.mjs';

/** A short summary: the counts, then the first sentence wrapped to \`width\`. */
export function summarize(text, width = 60) {
  const s = stats(text);
  const first = /[^.!?]+[.!?]?/.exec(text.trim())?.[0]?.trim() ?? '';
  const head = \`\${s.words} words, \${s.sentences} sentences, about \${s.minutes} min to read\`;
  return [head, ...wrap(first, width).map((l) => \`  \${l}\`)].join('\\n');
}
`,
      'test/summary.test.mjs': `import assert from 'node:assert/strict';
import { test } from 'node:test';
import { summarize } from '../src/summary.mjs';

test('summarize gives counts and the wrapped first sentence', () => {
  assert.equal(
    summarize('orch runs many agents at once. Each works alone.', 20),
    '9 words, 2 sentences, about 1 min to read\\n  orch runs many\\n  agents at once.',
  );
});
`,
    },
  },
  {
    id: 'cli',
    reads: ['src/toc.mjs', 'src/summary.mjs', 'README.md'],
    description: 'textkit command line: toc and summary of a file',
    dependsOn: ['toc', 'summary'],
    test: 'test/cli.test.mjs',
    summary: 'node src/cli.mjs toc|summary FILE',
    files: {
      'src/cli.mjs': `#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { summarize } from './summary.mjs';
import { toc } from './toc.mjs';

const [command, file] = process.argv.slice(2);
const commands = { toc, summary: (text) => summarize(text) };
if (!commands[command] || !file) {
  process.stderr.write('usage: node src/cli.mjs toc|summary FILE\\n');
  process.exit(2);
}
process.stdout.write(\`\${commands[command](readFileSync(file, 'utf8'))}\\n\`);
`,
      'test/cli.test.mjs': `import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../src/cli.mjs', import.meta.url));
const readme = fileURLToPath(new URL('../README.md', import.meta.url));

test('cli prints the table of contents of a file', () => {
  const r = spawnSync(process.execPath, [cli, 'toc', readme], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^- \\[textkit\\]\\(#textkit\\)/);
});

test('cli explains its usage', () => {
  const r = spawnSync(process.execPath, [cli, 'nope'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /usage/);
});
`,
    },
  },
  {
    id: 'index',
    reads: [
      'src/words.mjs',
      'src/slug.mjs',
      'src/wrap.mjs',
      'src/stats.mjs',
      'src/toc.mjs',
      'src/summary.mjs',
    ],
    description: 'the package entry point exporting every function',
    dependsOn: ['toc', 'summary'],
    test: 'test/index.test.mjs',
    summary: 'src/index.mjs re-exports the toolkit',
    files: {
      'src/index.mjs': `export { words } from './words.mjs';
export { slugify } from './slug.mjs';
export { wrap } from './wrap.mjs';
export { stats } from './stats.mjs';
export { headings, toc } from './toc.mjs';
export { summarize } from './summary.mjs';
`,
      'test/index.test.mjs': `import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as textkit from '../src/index.mjs';

test('the entry point exports the whole toolkit', () => {
  assert.deepEqual(Object.keys(textkit).sort(), ['headings', 'slugify', 'stats', 'summarize', 'toc', 'words', 'wrap']);
  assert.equal(textkit.slugify(textkit.toc('# Hi').slice(3, 5)), 'hi');
});
`,
    },
  },
];

const EOF = 'ORCH_DEMO_EOF';

function heredoc(path: string, content: string, op: '>' | '>>' = '>'): string {
  if (content.split('\n').includes(EOF)) throw new Error(`demo file ${path} contains the heredoc delimiter`);
  return `cat ${op} ${path} <<'${EOF}'\n${content}${content.endsWith('\n') ? '' : '\n'}${EOF}`;
}

/**
 * The `run` script of a task for the `shell` agent: writes its files with heredocs, commits, and
 * reports with `orch task progress|done`. A task with a stray write does it on its first attempt
 * only; the retry (`ORCH_ATTEMPT` > 1) starts over from its base commit, as an agent told about the
 * boundary violation might (undoing the stray edit in a new commit would pass too: only the net
 * change is checked with the default squash merges).
 */
export function taskScript(t: SampleTask): string {
  const lines = ['set -euo pipefail', 'mkdir -p src test'];
  if (t.strayOnFirstAttempt) {
    lines.push(
      'if [ "${ORCH_ATTEMPT:-1}" -gt 1 ]; then',
      '  orch task progress "retry: dropping the rejected commit, staying inside files_write"',
      '  git reset -q --hard "$(git merge-base HEAD "orch/$ORCH_RUN/staging")"',
      'else',
      heredoc(t.strayOnFirstAttempt.path, t.strayOnFirstAttempt.append, '>>'),
      'fi',
    );
  }
  for (const [path, content] of Object.entries(t.files)) lines.push(heredoc(path, content));
  lines.push(
    'git add -A',
    `git commit -qm ${shellQuote(`${t.id}: ${t.summary}`)}`,
    `orch task progress ${shellQuote(`wrote ${Object.keys(t.files).join(' and ')}`)}`,
    `orch task done --summary ${shellQuote(t.summary)}`,
  );
  return `${lines.join('\n')}\n`;
}

/** The plan, as the object written to `tasks.yaml`. */
export function samplePlan(): Record<string, unknown> {
  return {
    request: 'Build textkit, a small text toolkit: slugs, word wrap, stats, table of contents, summary, CLI',
    defaults: { agent: 'shell' },
    tasks: SAMPLE_TASKS.map((t) => ({
      id: t.id,
      description: t.description,
      depends_on: t.dependsOn,
      files_write: Object.keys(t.files),
      files_read: t.reads,
      verification: [{ command: `node --test ${t.test}`, type: 'test' }],
      run: taskScript(t),
    })),
  };
}
