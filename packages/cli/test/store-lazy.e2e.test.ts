/**
 * Local commands never load the distributed store's modules (ioredis, BullMQ): the built binary is
 * run with a module hook that records every module it resolves.
 */
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPaths, taskChannelPaths, writeAck } from '@orch/store';
import { orchBin, tempRepo, type TempRepo } from '@orch/test-utils';

let dir: string;
let repo: TempRepo;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'orch-lazy-'));
  // The hook runs on the loader thread: it appends each resolved URL to the file named in the env.
  await writeFile(
    join(dir, 'hook.mjs'),
    `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(process.env.ORCH_TEST_LOADED, r.url + '\\n');
  return r;
}
`,
  );
  await writeFile(
    join(dir, 'register.mjs'),
    `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hook.mjs')).href)});\n`,
  );
  repo = await tempRepo();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await repo.cleanup();
});

async function loadedBy(args: string[], env: Record<string, string> = {}): Promise<string> {
  const list = join(dir, `loaded-${args.join('-').replace(/[^a-z0-9-]/gi, '')}.txt`);
  await writeFile(list, '');
  // The workspace build's module graph (the bundle has the same lazy split, in chunks).
  await execa(
    process.execPath,
    ['--import', join(dir, 'register.mjs'), orchBin({ workspaceBuild: true }), ...args],
    {
      cwd: repo.root,
      env: { ORCH_TEST_LOADED: list, NO_COLOR: '1', ORCH_RUN: '', ORCH_TASK_TOKEN: '', ...env },
      reject: false,
      timeout: 60_000,
    },
  );
  return readFile(list, 'utf8');
}

const heavy = /\/(ioredis|bullmq)\/|\/distributed\/dist\//;

describe('the store modules load only when a store is named', () => {
  it('orch --version and orch task done (user and worker) do not load ioredis or BullMQ', async () => {
    // The worker's `task done` waits for a supervisor's verdict: the test gives it one, as the
    // supervisor would, so the command runs its whole way (verdict printed) without waiting out its
    // ack time for a supervisor that is not there.
    const outbox = taskChannelPaths(runPaths(repo.root, 'r1').dir, 'a').outbox;
    await mkdir(outbox.new, { recursive: true });
    const worker = loadedBy(['task', 'done'], {
      ORCH_TASK_TOKEN: 't',
      ORCH_TASK: 'a',
      ORCH_RUN: 'r1',
      ORCH_ATTEMPT: '1',
    });
    let acked = false;
    void worker.finally(() => (acked = true));
    while (!acked) {
      const [item] = (await readdir(outbox.new)).filter((n) => n.endsWith('.json'));
      if (item) {
        await mkdir(outbox.ack, { recursive: true });
        await writeAck(outbox, { id: item.slice(0, -'.json'.length), ok: true, detail: 'recorded' });
        break;
      }
      await sleep(20);
    }
    const lists = await Promise.all([
      loadedBy(['--version']),
      loadedBy(['task', 'done', '--task', 'a']),
      worker,
    ]);
    for (const loaded of lists) {
      expect(loaded).toContain('/cli/dist/');
      expect(loaded.split('\n').filter((l) => heavy.test(l))).toEqual([]);
    }
  });

  it('a command given --store does load them (the hook sees what it should)', async () => {
    const loaded = await loadedBy(['state', 'status', '--store', 'redis://127.0.0.1:1/0']);
    expect(loaded).toMatch(/\/ioredis\//);
  });
});
