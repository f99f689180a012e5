import { defineCommand } from '../../define.js';
import { approve } from './approve.js';
import { deny } from './deny.js';
import { list } from './list.js';

export const deps = defineCommand({
  name: 'deps',
  description: 'Dependency requests from workers: list, approve (install on staging) or deny them',
  examples: ['orch deps list', 'orch deps approve api', 'orch deps deny ui --reason "use fetch, not axios"'],
  subcommands: [list, approve, deny],
});
