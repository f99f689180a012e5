import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { isolatedTmux } from '@orch/test-utils';

/** Per test of `orch demo`: an empty scratch folder and an isolated tmux, both gone after the test. */
export function demoEach(): { readonly scratch: string; readonly env: Record<string, string> } {
  const world = { scratch: '', env: {} as Record<string, string> };
  let tmux: Awaited<ReturnType<typeof isolatedTmux>> | undefined;
  beforeEach(async () => {
    world.scratch = await mkdtemp(join(tmpdir(), 'orch-demo-test-'));
    tmux = await isolatedTmux();
    world.env = tmux.env;
  });
  afterEach(async () => {
    await tmux?.cleanup();
    await rm(world.scratch, { recursive: true, force: true });
  });
  return world;
}
