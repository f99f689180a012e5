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
  // ink decides once, when it loads, whether it runs in CI (then it draws only a last frame). A live
  // view is only started on a terminal, so it must draw live even where CI is set.
  const ci = process.env.CI;
  process.env.CI = 'false';
  const m = await import('./interactive.js').finally(() => {
    if (ci === undefined) delete process.env.CI;
    else process.env.CI = ci;
  });
  await m.runInteractive(opts);
}
