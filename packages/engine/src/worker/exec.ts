/**
 * The process a worker session runs (`orch _exec <spec.json>`): it starts the agent with the
 * attempt's token in its environment (ORCH_TASK_TOKEN, read from the spec file so it never appears
 * on a command line), keeps its raw output in a log, shows a readable rendering in the pane, and
 * reports usage, activity and the exit with its evidence through the task channel's outbox the
 * moment the agent ends, so the supervisor learns about it without polling. The wrapper does not
 * write the journal: only the supervisor does.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import type { AgentEvent } from '@orch/agents';
import { getAdapter } from '@orch/agents';
import type { Usage } from '@orch/core';
import { dropWorkerItem, runPaths, type WorkerIdentity } from '@orch/store';
import { sandboxArgv, type SandboxLayout } from './sandbox-args.js';
import { traced } from '@orch/core';

/** What `orch _exec <spec.json>` runs: written by the supervisor for each attempt. */
export interface ExecSpec {
  run: string;
  task: string;
  attempt: number;
  agent: string;
  rawLog: string;
  argv: string[];
  /** The agent's whole environment (orch's allow-list of the supervisor's, plus the task's). */
  env: Record<string, string>;
  unset: string[];
  stdin?: string;
  /** The attempt's secret (the spec file is 0600 and lives in the task's channel). */
  token: string;
  /** Set when the agent runs inside bubblewrap (`workers.sandbox`). */
  sandbox?: SandboxLayout;
}

export async function readExecSpec(file: string): Promise<ExecSpec> {
  return JSON.parse(await readFile(file, 'utf8')) as ExecSpec;
}

const ACTIVITY_INTERVAL_MS = 1000;

export async function execWorker(repoRoot: string, o: ExecSpec): Promise<number> {
  const runDir = runPaths(repoRoot, o.run).dir;
  const adapter = getAdapter(o.agent);
  const parser = adapter.createParser();
  const raw = createWriteStream(o.rawLog, { flags: 'a' });
  // Only what the supervisor allowed (the spec), not this process's environment: tmux gave it the
  // server's, which may hold a calling session's identity. The pane's TERM is the one that fits.
  const env: NodeJS.ProcessEnv = {
    ...o.env,
    ...(process.env.TERM ? { TERM: process.env.TERM } : {}),
    ORCH_TASK_TOKEN: o.token,
  };
  for (const name of [...o.unset, 'TMUX', 'TMUX_PANE']) delete env[name];
  const who: WorkerIdentity = { task: o.task, attempt: o.attempt, token: o.token };
  const [cmd, ...args] = o.sandbox ? sandboxArgv(o.sandbox, o.argv) : o.argv;
  if (!cmd) return 2;

  let usage: Partial<Usage> = {};
  let activity: string | undefined;
  let result: { ok: boolean; summary?: string } | undefined;
  let rateLimit: { message: string; resetAt?: string } | undefined;
  let dirty = false;
  let lastFlush = 0;
  let timer: NodeJS.Timeout | undefined;

  const flush = async (): Promise<void> => {
    if (!dirty) return;
    dirty = false;
    lastFlush = Date.now();
    await dropWorkerItem(runDir, who, {
      kind: 'activity',
      usage,
      ...(activity ? { activity } : {}),
    }).catch(traced('exec.dropWorkerItem'));
  };
  const scheduleFlush = (): void => {
    dirty = true;
    if (timer) return;
    const wait = Math.max(0, ACTIVITY_INTERVAL_MS - (Date.now() - lastFlush));
    timer = setTimeout(() => {
      timer = undefined;
      void flush();
    }, wait);
  };

  const onEvents = (events: AgentEvent[]): void => {
    for (const ev of events) {
      const line = adapter.render(ev);
      if (line !== undefined) process.stdout.write(`${line}\n`);
      switch (ev.type) {
        case 'usage':
          usage = { ...usage, ...ev.usage };
          scheduleFlush();
          break;
        case 'tool':
          activity = `${ev.name}: ${ev.summary}`.slice(0, 200);
          scheduleFlush();
          break;
        case 'result':
          result = { ok: ev.ok, ...(ev.summary ? { summary: ev.summary.slice(0, 2000) } : {}) };
          if (ev.usage) usage = { ...usage, ...ev.usage };
          scheduleFlush();
          break;
        case 'rate_limit':
          rateLimit = { message: ev.message, ...(ev.resetAt ? { resetAt: ev.resetAt } : {}) };
          break;
        default:
          break;
      }
    }
  };

  const child = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  if (o.stdin) createReadStream(o.stdin).pipe(child.stdin);
  else child.stdin.end();
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    raw.write(chunk);
    onEvents(parser.push(chunk));
  });
  child.stderr.on('data', (chunk: string) => {
    raw.write(chunk);
    process.stderr.write(chunk);
  });
  const forward = (sig: NodeJS.Signals): void => {
    child.kill(sig);
  };
  process.on('SIGTERM', forward);
  process.on('SIGINT', forward);
  process.on('SIGHUP', forward);

  const exitCode = await new Promise<number | null>((resolve) => {
    child.on('error', (err) => {
      process.stderr.write(`orch: cannot start ${cmd}: ${err.message}\n`);
      resolve(127);
    });
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : null)));
  });
  onEvents(parser.end());
  if (timer) clearTimeout(timer);
  await flush();
  await new Promise<void>((r) => raw.end(r));
  await dropWorkerItem(runDir, who, {
    kind: 'exited',
    exitCode,
    ...(result ? { result } : {}),
    ...(rateLimit ? { rateLimit: { ...rateLimit, message: rateLimit.message.slice(0, 2000) } } : {}),
    source: result ? 'agent-result' : 'process-exit',
    detail: result ? `agent result ${result.ok ? 'ok' : 'error'}, exit ${exitCode}` : `exit ${exitCode}`,
  });
  return exitCode ?? 1;
}
