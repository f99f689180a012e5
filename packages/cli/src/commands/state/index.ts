import { defineCommand } from '../../define.js';
import { abort } from './abort.js';
import { clean } from './clean.js';
import { list } from './list.js';
import { resume } from './resume.js';
import { status } from './status.js';

export const state = defineCommand({
  name: 'state',
  description: 'Look at runs, continue an interrupted one, abort one, or clean up finished ones',
  examples: ['orch state status', 'orch state list --json', 'orch state resume --dry-run'],
  subcommands: [status, list, resume, abort, clean],
});
