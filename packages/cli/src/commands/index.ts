import type { Command } from 'commander';
import { register as analyze } from './analyze.js';
import { register as context } from './context.js';
import { register as dashboard } from './dashboard.js';
import { register as deps } from './deps.js';
import { register as demo } from './demo.js';
import { register as doctor } from './doctor.js';
import { register as install } from './install.js';
import { register as mailbox } from './mailbox.js';
import { register as mcp } from './mcp/serve.js';
import { register as plan } from './plan.js';
import { register as run } from './run.js';
import { register as state } from './state.js';
import { register as task } from './task.js';
import { register as verify } from './verify.js';

/**
 * Each command group lives in its own module and registers itself here, in the order `--help`
 * lists them. Implementations are imported lazily inside actions so `orch --help` loads nothing
 * heavy (ink, react, git drivers).
 */
const groups: ((program: Command) => void)[] = [
  plan,
  analyze,
  run,
  verify,
  state,
  dashboard,
  task,
  mailbox,
  context,
  deps,
  mcp,
  install,
  doctor,
  demo,
];

export function registerCommands(program: Command): void {
  for (const register of groups) register(program);
}
