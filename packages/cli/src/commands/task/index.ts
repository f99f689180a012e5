import { defineCommand } from '../../define.js';
import { block } from './block.js';
import { done } from './done.js';
import { fail } from './fail.js';
import { progress } from './progress.js';

export const task = defineCommand({
  name: 'task',
  description: "Report a worker's status to orch (run inside a worker; ORCH_* variables find the run)",
  examples: [
    'orch task progress "tests for the parser pass"',
    'orch task done --summary "parser and its tests"',
    'orch task block --needs "lodash@4" --reason "deep merge"',
  ],
  subcommands: [progress, done, fail, block],
});
