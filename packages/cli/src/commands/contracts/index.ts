import { defineCommand } from '../../define.js';
import { check } from './check.js';
import { gen } from './gen.js';

export const contracts = defineCommand({
  name: 'contracts',
  description: 'Generate contract stubs and check the contracts of a plan',
  examples: [
    'orch contracts gen Calculator add subtract --lang ts -o contracts/calculator.ts',
    'orch contracts check tasks.yaml',
  ],
  subcommands: [gen, check],
});
