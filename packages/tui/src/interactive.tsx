import { render } from 'ink';
import { DashboardApp, type DashboardAppProps } from './app.js';

export interface InteractiveOptions extends DashboardAppProps {
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
  /** Draw on the terminal's alternate screen and restore the previous screen on exit (default: on a TTY). */
  altScreen?: boolean;
}

/** Runs the live dashboard until the user quits. */
export async function runInteractive({
  stdin,
  stdout,
  altScreen,
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
  try {
    await instance.waitUntilExit();
  } finally {
    instance.cleanup();
    if (alt) out.write('\u001b[?1049l');
  }
}
