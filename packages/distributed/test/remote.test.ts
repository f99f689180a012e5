/** The supervisor's side of the shared remote, on real repositories: a checkout and a bare remote. */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gitRepository } from '@orch/engine';
import { Repo } from '@orch/git';
import { tempRepo, type TempRepo } from '@orch/test-utils';
import { publishRunStart, publishTaskStart, remoteRepository, type RemoteOptions } from '../src/remote.js';

const git = async (cwd: string, ...args: string[]): Promise<string> =>
  (await promisify(execFile)('git', args, { cwd })).stdout.trim();

const run = 'r1';
const staging = `refs/heads/orch/${run}/staging`;
let repo: TempRepo;
let dir: string;
let bare: string;
let o: RemoteOptions;
let base: string;

beforeEach(async () => {
  repo = await tempRepo({ 'README.md': '# app\n' });
  dir = await mkdtemp(join(tmpdir(), 'orch-remote-'));
  bare = join(dir, 'remote.git');
  await git(dir, 'init', '-q', '--bare', bare);
  o = { repoRoot: repo.root, url: `file://${bare}`, run };
  base = await repo.git('rev-parse', 'HEAD');
  await repo.git('update-ref', staging, base);
});

afterEach(async () => {
  await repo.cleanup();
  await rm(dir, { recursive: true, force: true });
});

/** A new commit on top of `ref` (same tree, its own message). */
function commitOn(ref: string, message: string): Promise<string> {
  return repo.git('commit-tree', '-p', ref, '-m', message, `${ref}^{tree}`);
}

describe('staging through the remote', () => {
  it('publishes staging at the start, then pushes every move with a lease on the tip it moved from', async () => {
    await publishRunStart(o, { base: 'main', baseCommit: base, stagingCommit: base });
    expect(await git(bare, 'rev-parse', staging)).toBe(base);
    expect(await git(bare, 'rev-parse', 'refs/heads/main')).toBe(base);
    const r = remoteRepository(gitRepository(await Repo.open(repo.root)), o);
    const next = await commitOn(staging, 'one');
    await r.updateRef(staging, next, base);
    expect(await git(bare, 'rev-parse', staging)).toBe(next);
    // A start of the same run elsewhere finds its staging on the remote already: refused.
    await expect(
      publishRunStart(o, { base: 'main', baseCommit: base, stagingCommit: base }),
    ).rejects.toMatchObject({ code: 'ERR_ORCH_REMOTE' });

    // Someone moves staging on the remote: the next move is refused there and undone here.
    const foreign = await commitOn(staging, 'foreign');
    await git(repo.root, 'push', '-q', '--force', o.url, `${foreign}:${staging}`);
    const after = await commitOn(staging, 'two');
    await expect(r.updateRef(staging, after, next)).rejects.toMatchObject({ code: 'ERR_ORCH_REMOTE' });
    expect(await repo.git('rev-parse', staging)).toBe(next);
    expect(await git(bare, 'rev-parse', staging)).toBe(foreign);
  });

  it("publishes a task's starting point as its branch, replacing what an earlier attempt pushed", async () => {
    const branch = await publishTaskStart(o, 'api', base);
    expect(branch).toBe(`orch/${run}/api/work`);
    expect(await git(bare, 'rev-parse', `refs/heads/${branch}`)).toBe(base);
    const later = await commitOn(base, 'later');
    await publishTaskStart(o, 'api', later);
    expect(await git(bare, 'rev-parse', `refs/heads/${branch}`)).toBe(later);
  });
});
