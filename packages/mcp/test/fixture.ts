/** A real run directory in a temp repository, orch's server on the SDK's in-memory transport. */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { RunEventInput, RunState } from '@orch/core';
import { Intake } from '@orch/engine';
import { appendEvent, loadRunState } from '@orch/store';
import { startedRunRepo, type TempRepo } from '@orch/test-utils';
import { createOrchServer } from '../src/index.js';

export interface RunFixture {
  repo: TempRepo;
  root: string;
  run: string;
  runDir: string;
  state(): Promise<RunState>;
  append(ev: RunEventInput): Promise<void>;
  /** The supervisor's intake, in this process: it checks and journals what workers hand over. */
  startIntake(): Promise<Intake>;
  cleanup(): Promise<void>;
}

export async function runFixture(tasks = ['api', 'ui']): Promise<RunFixture> {
  const { repo, root, run, runDir } = await startedRunRepo(tasks, {
    event: { request: 'mcp test', detached: true },
  });
  const intakes: Intake[] = [];
  const state = async (): Promise<RunState> => (await loadRunState(runDir)) as RunState;
  let current = await state();
  return {
    repo,
    root,
    run,
    runDir,
    state,
    append: async (ev) => {
      await appendEvent(runDir, ev);
      current = await state();
    },
    startIntake: async () => {
      const intake = new Intake({
        runDir,
        state: () => current,
        append: async (ev) => {
          const written = await appendEvent(runDir, ev);
          current = await state();
          return written;
        },
        launched: new Map(),
      });
      await intake.start();
      intakes.push(intake);
      return intake;
    },
    cleanup: async () => {
      for (const i of intakes) {
        i.close();
        await i.idle();
      }
      await repo.cleanup();
    },
  };
}

export interface Connected {
  client: Client;
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  close(): Promise<void>;
}

/** orch's server for `env` (a worker's, or the user's), and a client talking to it in memory. */
export async function connect(env: NodeJS.ProcessEnv): Promise<Connected> {
  const server = createOrchServer({ version: '0.0.0-test', env });
  const [a, b] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'test', version: '1' });
  await Promise.all([server.connect(a), client.connect(b)]);
  return {
    client,
    call: async (name, args = {}) => (await client.callTool({ name, arguments: args })) as CallToolResult,
    close: async () => {
      await client.close();
      await server.close();
    },
  };
}

export const structured = (r: CallToolResult): Record<string, unknown> =>
  (r.structuredContent ?? {}) as Record<string, unknown>;
