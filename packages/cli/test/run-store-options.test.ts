import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempRepo, type TempRepo } from '@orch/test-utils';
import { openDistributed } from '../src/commands/run/distributed.js';

let repo: TempRepo;
beforeEach(async () => {
  repo = await tempRepo();
});
afterEach(async () => {
  await repo.cleanup();
});

describe('orch run: a store and a remote', () => {
  it('is a local run when neither the options nor the config name a store', async () => {
    expect(await openDistributed(repo.root, {}, {})).toBeUndefined();
  });

  it('needs both a store and a remote, from the options or the config', async () => {
    await expect(openDistributed(repo.root, { store: 'redis://127.0.0.1:1/0' }, {})).rejects.toMatchObject({
      code: 'ERR_ORCH_USAGE',
      message: expect.stringContaining('no remote'),
    });
    await writeFile(join(repo.root, 'orch.yaml'), 'store:\n  remote: /srv/app.git\n');
    await expect(openDistributed(repo.root, {}, {})).rejects.toMatchObject({
      code: 'ERR_ORCH_USAGE',
      message: expect.stringContaining('no store'),
    });
  });

  it('refuses a password in the store URL without printing it', async () => {
    const err = await openDistributed(
      repo.root,
      { store: 'redis://:hunter2@127.0.0.1:1/0', remote: '/srv/app.git' },
      {},
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_ORCH_STORE_URL' });
    expect(String((err as Error).message)).not.toContain('hunter2');
  });
});
