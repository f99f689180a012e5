import { defineCommand } from '../../define.js';
import { get } from './get.js';
import { getForTask } from './get-for-task.js';
import { list } from './list.js';
import { remove } from './delete.js';
import { search } from './search.js';
import { set } from './set.js';

export const context = defineCommand({
  name: 'context',
  description: "Shared context of the repository: facts workers record for each other's prompts",
  examples: ['orch context set api.base_url "/api/v2"', 'orch context get-for-task ui'],
  subcommands: [set, get, list, search, remove, getForTask],
});
