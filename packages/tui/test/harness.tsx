/**
 * A small render harness for ink: fake streams with a settable size, a tick after render and after
 * each key (useInput subscribes in an effect, and React 19 flushes on setImmediate), and frames
 * with ANSI codes stripped.
 */
import { EventEmitter } from 'node:events';
import { render as inkRender } from 'ink';
import { act, type ReactElement } from 'react';

// eslint-disable-next-line no-control-regex
const ANSI_RE = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007]*\u0007/g;

export function stripAnsi(s: string): string {
  return s.replace(ANSI_RE, '');
}

class FakeStdout extends EventEmitter {
  frames: string[] = [];
  constructor(
    public columns: number,
    public rows: number,
  ) {
    super();
  }
  write = (frame: string): boolean => {
    this.frames.push(frame);
    return true;
  };
}

class FakeStdin extends EventEmitter {
  isTTY = true;
  private data: string | null = null;
  write(data: string): void {
    this.data = data;
    this.emit('readable');
    this.emit('data', data);
  }
  read = (): string | null => {
    const d = this.data;
    this.data = null;
    return d;
  };
  setEncoding(): void {}
  setRawMode(): void {}
  resume(): void {}
  pause(): void {}
  ref(): void {}
  unref(): void {}
}

export const KEYS = {
  up: '\u001b[A',
  down: '\u001b[B',
  enter: '\r',
  escape: '\u001b',
  ctrlC: '\u0003',
} as const;

export async function tick(ms = 15): Promise<void> {
  await act(async () => {
    await new Promise((r) => setTimeout(r, ms));
    await new Promise((r) => setImmediate(r));
  });
}

export interface Rendered {
  /** The last frame without ANSI codes and trailing spaces. */
  lastFrame(): string;
  frameCount(): number;
  press(key: string): Promise<void>;
  resize(columns: number, rows: number): Promise<void>;
  /** Polls until the last frame satisfies `test` (or throws with the frame after `timeoutMs`). */
  waitForFrame(test: (frame: string) => boolean, timeoutMs?: number): Promise<string>;
  exited(): boolean;
  unmount(): void;
}

const mounted: (() => void)[] = [];

export async function render(
  tree: ReactElement,
  size: { columns?: number; rows?: number } = {},
): Promise<Rendered> {
  const stdout = new FakeStdout(size.columns ?? 120, size.rows ?? 40);
  const stderr = new FakeStdout(size.columns ?? 120, size.rows ?? 40);
  const stdin = new FakeStdin();
  let instance!: ReturnType<typeof inkRender>;
  act(() => {
    instance = inkRender(tree, {
      stdout: stdout as unknown as NodeJS.WriteStream,
      stderr: stderr as unknown as NodeJS.WriteStream,
      stdin: stdin as unknown as NodeJS.ReadStream,
      debug: true,
      exitOnCtrlC: false,
      patchConsole: false,
    });
  });
  let done = false;
  void instance.waitUntilExit().finally(() => {
    done = true;
  });
  const unmount = (): void => {
    if (!done) act(() => instance.unmount());
    instance.cleanup();
  };
  mounted.push(unmount);
  await tick();
  const lastFrame = (): string =>
    stripAnsi(stdout.frames.at(-1) ?? '')
      .split('\n')
      .map((l) => l.replace(/\s+$/, ''))
      .join('\n');
  return {
    lastFrame,
    frameCount: () => stdout.frames.length,
    press: async (key) => {
      act(() => stdin.write(key));
      await tick();
    },
    resize: async (columns, rows) => {
      stdout.columns = columns;
      stdout.rows = rows;
      act(() => {
        stdout.emit('resize');
      });
      await tick();
    },
    waitForFrame: async (test, timeoutMs = 3000) => {
      const end = Date.now() + timeoutMs;
      while (!test(lastFrame())) {
        if (Date.now() > end) throw new Error(`frame never matched; last frame:\n${lastFrame()}`);
        await tick(20);
      }
      return lastFrame();
    },
    exited: () => done,
    unmount,
  };
}

/** Runs `fn` (for example feeding events to a store) inside act, then ticks. */
export async function update(fn: () => void): Promise<void> {
  act(fn);
  await tick();
}

/** Unmounts everything rendered so far; call in afterEach. */
export function cleanup(): void {
  for (const u of mounted.splice(0)) u();
}
