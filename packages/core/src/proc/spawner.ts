/**
 * Starting a program and collecting its output, for git and tmux (thousands of short processes per
 * run). Node starts a child with a synchronous fork of the whole parent and waits until the child
 * has exec'd; from a big, long-lived supervisor on a busy machine that held its one thread for
 * several milliseconds per process (28 s over a 30-task run at load 14), during which no intake,
 * journal or launch moved. With the spawn helper on (`startSpawnHelper`, the supervisor's process
 * only), a small Node process started once does the starting, and this thread only exchanges
 * messages with it. Without it (short commands, tests), the same code runs here.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface ProgramRun {
  file: string;
  args: readonly string[];
  cwd: string;
  /** The program's whole environment. */
  env: Record<string, string>;
  input?: string | Uint8Array;
  timeoutMs: number;
  /** SIGKILL this long after a timeout's SIGTERM (default 5 s). */
  killAfterMs?: number;
  /** A process group of its own (a terminal's SIGHUP or Ctrl-C never reaches it). */
  detached?: boolean;
}

export interface ProgramExit {
  stdout: Buffer;
  stderr: Buffer;
  /** Null when a signal ended it (or the helper ended first: `lost`). */
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** It could not be started (ENOENT: not on PATH, or the folder is missing). */
  spawnError?: { message: string; code?: string };
  /** The spawn helper ended before the program did: whether it ran, and how far, is unknown. */
  lost?: boolean;
}

/** The message the helper gets, and what `runHere` takes: a run with its defaults filled in. */
type Request = ProgramRun & Required<Pick<ProgramRun, 'killAfterMs' | 'detached'>>;

/**
 * One definition of starting a program, run here or in the helper: a function body of plain
 * JavaScript (no names of this module, which a bundler renames), with `spawn`, the request `m` and
 * `done(exit)` as parameters.
 */
const RUN_BODY = `
  const child = spawn(m.file, m.args, {
    cwd: m.cwd,
    env: m.env,
    stdio: [m.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    detached: m.detached,
  });
  const out = [];
  const err = [];
  child.stdout.on('data', (b) => out.push(b));
  child.stderr.on('data', (b) => err.push(b));
  let timedOut = false;
  let spawnError;
  let killer;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGTERM');
    killer = setTimeout(() => child.kill('SIGKILL'), m.killAfterMs);
  }, m.timeoutMs);
  child.on('error', (e) => {
    spawnError = { message: e.message, code: e.code };
  });
  child.on('close', (code, signal) => {
    clearTimeout(timer);
    clearTimeout(killer);
    done({ stdout: Buffer.concat(out), stderr: Buffer.concat(err), code, signal, timedOut, spawnError });
  });
  if (child.stdin && m.input !== undefined) {
    // It may exit before reading all of it (an error): that is reported by its exit code.
    child.stdin.on('error', () => undefined);
    child.stdin.end(m.input);
  }
`;

// The helper runs the same text.
const runHere = new Function('spawn', 'm', 'done', RUN_BODY) as (
  s: typeof spawn,
  m: Request,
  done: (exit: ProgramExit) => void,
) => void;

/** The helper: runs each request it gets, answers with its id; ends with its parent's channel. */
const HELPER = `
const { spawn } = require('node:child_process');
const run = new Function('spawn', 'm', 'done', ${JSON.stringify(RUN_BODY)});
process.on('disconnect', () => process.exit(0));
process.on('message', (msg) => {
  try {
    run(spawn, msg.run, (exit) => process.send({ id: msg.id, exit }));
  } catch (e) {
    process.send({
      id: msg.id,
      exit: { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), code: null, signal: null, timedOut: false,
        spawnError: { message: String(e && e.message || e), code: e && e.code } },
    });
  }
});
`;

interface Pending {
  resolve: (exit: ProgramExit) => void;
}

class Helper {
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closing = false;
  ended = false;

  constructor(onEnd: (h: Helper) => void) {
    this.child = spawn(process.execPath, ['-e', HELPER], {
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
      serialization: 'advanced',
      // Nothing of this process's: each request carries its program's environment.
      env: {},
      // Its own session: a closing terminal's SIGHUP or a Ctrl-C reaches the supervisor, which
      // outlives it or stops cleanly, never the helper with git commands in flight.
      detached: true,
    });
    this.child.on('message', (msg: { id: number; exit: ProgramExit }) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      this.idle();
      if (this.closing && this.pending.size === 0) this.stop();
      const e = msg.exit;
      // Buffers arrive as plain byte arrays.
      p.resolve({ ...e, stdout: asBuffer(e.stdout), stderr: asBuffer(e.stderr) });
    });
    const end = (): void => {
      if (this.ended) return;
      this.ended = true;
      onEnd(this);
      for (const p of this.pending.values()) p.resolve(lostExit());
      this.pending.clear();
    };
    this.child.on('exit', end);
    this.child.on('error', end);
    this.child.on('disconnect', end);
    this.child.unref();
    this.idle();
  }

  /** Only requests in flight keep the process alive; an idle helper never does. */
  private idle(): void {
    const channel = this.child.channel as { ref?: () => void; unref?: () => void } | null | undefined;
    if (this.pending.size === 0) channel?.unref?.();
    else channel?.ref?.();
  }

  run(req: Request): Promise<ProgramExit> {
    return new Promise((resolve) => {
      const id = this.nextId++;
      this.pending.set(id, { resolve });
      this.idle();
      const sent = this.child.send({ id, run: req }, (err) => {
        if (!err || !this.pending.has(id)) return;
        this.pending.delete(id);
        this.idle();
        resolve(lostExit());
      });
      if (!sent && !this.child.connected && this.pending.delete(id)) resolve(lostExit());
    });
  }

  /** Ends the helper once the programs in flight have answered. */
  stop(): void {
    this.closing = true;
    if (this.pending.size === 0 && this.child.connected) this.child.disconnect();
  }
}

function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

function lostExit(): ProgramExit {
  return {
    stdout: Buffer.alloc(0),
    stderr: Buffer.from("orch's spawn helper ended before the program did"),
    code: null,
    signal: null,
    timedOut: false,
    lost: true,
  };
}

let enabled = false;
/** Every program through the helper, also one alone (tests of the helper itself). */
let always = false;
let helper: Helper | undefined;

/**
 * Starts programs through a helper process from now on (the supervisor calls it once), each that
 * starts while another is in flight; a helper that dies is replaced at the next program. Opt-in
 * (`ORCH_SPAWN_HELPER=1`): on an idle machine the round trip made end-to-end runs 10-20% slower, and a
 * shorter makespan under load is not shown (docs/benchmarks.md).
 * Returns the function that stops it (programs in flight finish first on the helper's side).
 */
export function startSpawnHelper(opts: { always?: boolean } = {}): () => void {
  if (process.env.ORCH_SPAWN_HELPER !== '1') return () => undefined;
  enabled = true;
  always = opts.always === true;
  return () => {
    enabled = false;
    always = false;
    helper?.stop();
    helper = undefined;
  };
}

/** Runs one program to its end; never rejects (the exit says what happened). */
export function runProgram(run: ProgramRun): Promise<ProgramExit> {
  const req: Request = {
    file: run.file,
    args: run.args,
    cwd: run.cwd,
    env: run.env,
    ...(run.input !== undefined ? { input: run.input } : {}),
    timeoutMs: run.timeoutMs,
    killAfterMs: run.killAfterMs ?? 5_000,
    detached: run.detached ?? false,
  };
  // A program alone (nothing else in flight) starts here: its fork holds up nothing that waits,
  // and the helper's round trip (one more process to schedule) would only add latency.
  const p =
    enabled && (inFlight > 0 || always)
      ? (helper ??= new Helper((h) => {
          if (helper === h) helper = undefined;
        })).run(req)
      : new Promise<ProgramExit>((resolve) => runHere(spawn, req, resolve));
  inFlight++;
  return p.finally(() => {
    inFlight--;
  });
}

/** Programs started and not yet ended, here or in the helper. */
let inFlight = 0;
