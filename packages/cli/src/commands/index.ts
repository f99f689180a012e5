import type { Command } from 'commander';
import type { CommandDefinition, Runner } from '../define.js';
import { conflicts } from './analyze/conflicts.js';
import { dag } from './analyze/dag.js';
import { risk } from './analyze/risk.js';
import { context } from './context/index.js';
import { contracts } from './contracts/index.js';
import { demo } from './demo/demo.js';
import { deps } from './deps/index.js';
import { doctor } from './doctor/doctor.js';
import { env } from './env/index.js';
import { install } from './install/install.js';
import { mailbox } from './mailbox/index.js';
import { plan } from './plan/plan.js';
import { exec } from './run/exec.js';
import { run } from './run/run.js';
import { supervise } from './run/supervise.js';
import { state } from './state/index.js';
import { wait } from './state/wait.js';
import { task } from './task/index.js';
import { verify } from './verify/verify.js';
import { dashboard } from './views/dashboard.js';
import { workers } from './views/workers.js';
import { completion } from './completion/completion.js';
import { config } from './config/config.js';
import { init } from './init/init.js';
import { mcp } from './mcp/serve.js';
import { schema } from './schema/schema.js';
import { host } from './host/host.js';
import { hosts } from './host/hosts.js';

/**
 * Every command, in the order `--help` lists them. Command modules import only `define.ts` and
 * light helpers at load; their handlers import what they need, so `orch --version` loads nothing
 * heavy (ink, react, git drivers).
 */
const commands: readonly CommandDefinition[] = [
  init,
  plan,
  dag,
  conflicts,
  risk,
  env,
  contracts,
  run,
  supervise,
  exec,
  verify,
  state,
  wait,
  dashboard,
  workers,
  task,
  mailbox,
  context,
  deps,
  host,
  hosts,
  mcp,
  install,
  doctor,
  demo,
  config,
  schema,
  completion,
];

export function registerCommands(program: Command, runner: Runner): void {
  for (const c of commands) c.attach(program, runner);
}
