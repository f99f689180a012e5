/**
 * Entry to the live views. ink and React load only here, on demand, so `--once` and `--json`
 * (which use the plain frame) start fast.
 */
import type { InteractiveOptions } from './interactive.js';

export type { InteractiveOptions } from './interactive.js';
export type { DashboardAppProps } from './app.js';

export async function runInteractive(opts: InteractiveOptions): Promise<void> {
  // React's development build costs about twice the CPU per frame; a dashboard left open for an
  // hour should cost next to nothing. Set before React loads; an explicit NODE_ENV wins.
  process.env.NODE_ENV ??= 'production';
  const m = await import('./interactive.js');
  await m.runInteractive(opts);
}
