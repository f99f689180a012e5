/**
 * `orch mcp`: orch as an MCP server. In a worker (ORCH_TASK_TOKEN in the environment) it offers the
 * worker's tools, bound to its own task; anywhere else, the orchestrating session's tools.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { registerOrchestratorTools } from './orchestrator-tools.js';
import { settled } from './result.js';
import { registerWorkerTools, workerBinding } from './worker-tools.js';

export interface OrchServerOptions {
  version: string;
  /** Whose tools: the worker's environment binds the server to its task. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export function createOrchServer(o: OrchServerOptions): McpServer {
  const env = o.env ?? process.env;
  const worker = workerBinding(env);
  const server = new McpServer(
    { name: 'orch', version: o.version },
    {
      instructions: worker
        ? `You are the worker of task ${worker.task} in orch run ${worker.run}. Report with task_progress, task_done (after committing), task_fail or task_block; talk to others with mailbox_send and mailbox_check.`
        : 'orch runs many coding agents in parallel on this repository. Check a plan with plan_check, start it with run_start, follow it with run_wait (it returns when the run needs the user or finishes) and run_status.',
    },
  );
  if (worker) registerWorkerTools(server, env);
  else registerOrchestratorTools(server, { cwd: o.cwd ?? process.cwd() });
  return server;
}

/** Serves on stdin/stdout until the client closes the stream. */
export async function serveStdio(o: OrchServerOptions): Promise<void> {
  const server = createOrchServer(o);
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    process.stdin.once('end', () => resolve());
  });
  await server.connect(transport);
  await closed;
  // A client may close its end right after its last request: answer what is in flight first.
  const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
  await tick();
  await settled();
  await tick();
  await server.close();
}
