import { defineCommand } from '../../define.js';
import { hash } from './hash.js';
import { verify } from './verify.js';

export const env = defineCommand({
  name: 'env',
  description: "The environment hash over the repository's tracked lockfiles",
  examples: ['orch env hash', 'orch env verify 3f2a9c0d1e4b5a67'],
  subcommands: [hash, verify],
});
