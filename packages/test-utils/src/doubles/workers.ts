/**
 * A worker runtime whose workers a test scripts, shaped like the engine's `WorkerRuntime` port.
 * Nothing runs: `start` reads the attempt's spec (task, attempt, token) from the wrapper's argv
 * and hands the worker to the task's script, which speaks through the task channel's outbox with
 * the attempt's token exactly as `orch task ...` and the `_exec` wrapper do, so the supervisor's
 * intake checks every item as it would a real worker's.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import type { OutboxItem } from '@orch/core';
import { dropWorkerItem } from '@orch/store';

interface Spec {
  name: string;
  cwd: string;
  argv: readonly string[];
  env: Record<string, string>;
  logFile: string;
}

type Body = OutboxItem['body'];

export class FakeWorker {
  dead = false;
  killed = false;
  exitStatus: number | null = null;
  output = 0;
  private readonly exitWaiters = new Set<() => void>();

  constructor(
    readonly spec: Spec,
    readonly task: string,
    readonly attempt: number,
    private readonly token: string,
    private readonly runDir: string,
  ) {}

  get cwd(): string {
    return this.spec.cwd;
  }

  /** Prints: the output grows, so the worker is not idle. */
  print(bytes = 1): void {
    this.output += bytes;
  }

  /** Writes a file in the task's worktree and commits everything there. */
  async commit(files: Record<string, string>, message = `${this.task}: work`): Promise<void> {
    const { writeFile, mkdir } = await import('node:fs/promises');
    const { dirname } = await import('node:path');
    for (const [p, c] of Object.entries(files)) {
      await mkdir(dirname(join(this.cwd, p)), { recursive: true });
      await writeFile(join(this.cwd, p), c);
    }
    await execa('git', ['add', '-A'], { cwd: this.cwd });
    await execa('git', ['commit', '-qm', message], { cwd: this.cwd });
  }

  /** Hands one item to the supervisor, signed with this attempt's token. */
  send(body: Body): Promise<string> {
    return dropWorkerItem(this.runDir, { task: this.task, attempt: this.attempt, token: this.token }, body);
  }

  done(summary = 'done'): Promise<string> {
    return this.send({ kind: 'done', summary });
  }

  fail(reason: string): Promise<string> {
    return this.send({ kind: 'fail', reason });
  }

  block(needs: string, reason: string): Promise<string> {
    return this.send({ kind: 'block', needs, reason });
  }

  /** `orch mail send <task> --type blocked-on`: pause until `on` is merged. */
  blockedOn(on: string, body = `waits for ${on}`): Promise<string> {
    return this.send({ kind: 'mail', to: on, message: { type: 'blocked-on', body, task: on } });
  }

  /** The wrapper saw its agent exit with `code` (and reports it, as `_exec` does), then the pane ends. */
  async exit(
    code: number,
    extra: {
      rateLimit?: { message: string; resetAt?: string };
      /** The agent's own final result event (result-event adapters: codex, gemini, claude). */
      result?: { ok: boolean; summary?: string };
    } = {},
  ): Promise<void> {
    await this.send({
      kind: 'exited',
      exitCode: code,
      ...(extra.rateLimit ? { rateLimit: extra.rateLimit } : {}),
      ...(extra.result ? { result: extra.result } : {}),
      source: extra.result ? 'agent-result' : 'process-exit',
      detail: extra.result
        ? `agent result ${extra.result.ok ? 'ok' : 'error'}, exit ${code}`
        : `exit ${code}`,
    });
    this.end(code);
  }

  /** The agent hit its API's rate limit and the wrapper exits. */
  rateLimited(message: string, resetAt?: string): Promise<void> {
    return this.exit(1, { rateLimit: { message, ...(resetAt ? { resetAt } : {}) } });
  }

  /** The pane ends with nothing reported (the wrapper itself died). */
  vanish(code: number | null = null): void {
    this.end(code);
  }

  end(code: number | null): void {
    if (this.dead) return;
    this.dead = true;
    this.exitStatus = code;
    for (const w of [...this.exitWaiters]) w();
  }

  onExit(fn: () => void): () => void {
    if (this.dead) {
      fn();
      return () => undefined;
    }
    this.exitWaiters.add(fn);
    return () => this.exitWaiters.delete(fn);
  }
}

/** What a task's worker does, per attempt; a script that returns without ending the worker hangs it. */
export type WorkerScript = (w: FakeWorker) => Promise<void> | void;

export class FakeWorkers {
  /** Every worker started, in order. */
  readonly started: FakeWorker[] = [];
  /** Names of the workers killed, in order. */
  readonly killed: string[] = [];
  private readonly current = new Map<string, FakeWorker>();
  private readonly scripts = new Map<string, WorkerScript>();
  /** Errors thrown by scripts (a test asserts there are none). */
  readonly errors: unknown[] = [];

  constructor(private readonly runDir: string) {}

  /** What the workers of `task` do. */
  script(task: string, fn: WorkerScript): this {
    this.scripts.set(task, fn);
    return this;
  }

  /** The workers of one task, oldest first. */
  of(task: string): FakeWorker[] {
    return this.started.filter((w) => w.task === task);
  }

  async start(spec: Spec): Promise<void> {
    // The wrapper's argv: node, orch, `_exec`, the attempt's spec file.
    const specFile = spec.argv[spec.argv.length - 1] as string;
    const exec = JSON.parse(await readFile(specFile, 'utf8')) as {
      task: string;
      attempt: number;
      token: string;
    };
    const w = new FakeWorker(spec, exec.task, exec.attempt, exec.token, this.runDir);
    this.current.get(spec.name)?.end(null);
    this.current.set(spec.name, w);
    this.started.push(w);
    const script = this.scripts.get(exec.task);
    if (script)
      void Promise.resolve()
        .then(() => script(w))
        .catch((e: unknown) => this.errors.push(e));
  }

  async kill(name: string): Promise<void> {
    const w = this.current.get(name);
    if (!w) return;
    this.current.delete(name);
    this.killed.push(name);
    w.killed = true;
    w.end(null);
  }

  async state(name: string): Promise<{ exists: boolean; dead: boolean; exitStatus: number | null }> {
    const w = this.current.get(name);
    return w
      ? { exists: true, dead: w.dead, exitStatus: w.exitStatus }
      : { exists: false, dead: false, exitStatus: null };
  }

  /** Resolves when the worker ends (or at once when there is none); never on a timer. */
  waitForExit(name: string, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<void> {
    const w = this.current.get(name);
    if (!w) return Promise.resolve();
    return new Promise((resolve) => {
      const off = w.onExit(() => {
        opts.signal?.removeEventListener('abort', onAbort);
        resolve();
      });
      const onAbort = (): void => {
        off();
        resolve();
      };
      opts.signal?.addEventListener('abort', onAbort);
    });
  }

  async outputSize(ref: { name: string }): Promise<number> {
    return this.current.get(ref.name)?.output ?? 0;
  }

  async outputTail(ref: { name: string }): Promise<string> {
    const w = this.current.get(ref.name);
    return w ? `${w.output} bytes of output` : '';
  }

  hiddenPaths(): readonly string[] {
    return [];
  }
}
