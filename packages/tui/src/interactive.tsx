import { render } from 'ink';
import { DashboardApp, type DashboardAppProps } from './app.js';
import { ringOnAttention } from './bell.js';

export interface InteractiveOptions extends DashboardAppProps {
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
  /** Draw on the terminal's alternate screen and restore the previous screen on exit (default: on a TTY). */
  altScreen?: boolean;
  /** Closes the view from outside (e.g. `orch run` when its run has finished). */
  signal?: AbortSignal;
  /** Ring the terminal bell when the run starts to need a person or ends (config `notify.bell`; default on). */
  bell?: boolean;
}

/** Runs the live dashboard until the user quits. */
export async function runInteractive({
  stdin,
  stdout,
  altScreen,
  signal,
  bell,
  ...props
}: InteractiveOptions): Promise<void> {
  const out = stdout ?? process.stdout;
  const alt = altScreen ?? Boolean(out.isTTY);
  if (alt) out.write('\u001b[?1049h\u001b[H');
  const instance = render(<DashboardApp {...props} />, {
    stdout: out,
    stdin: stdin ?? process.stdin,
    exitOnCtrlC: false,
    patchConsole: true,
  });
  const stopBell = bell === false ? undefined : ringOnAttention(props.source, out);
  const close = (): void => instance.unmount();
  if (signal?.aborted) close();
  signal?.addEventListener('abort', close);
  try {
    await instance.waitUntilExit();
  } finally {
    signal?.removeEventListener('abort', close);
    stopBell?.();
    instance.cleanup();
    if (alt) out.write('\u001b[?1049l');
  }
}
