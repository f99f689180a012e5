import { execFileSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runProgram, startSpawnHelper } from '../src/proc/spawner.js';

const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
const sh = (script: string, more: Partial<Parameters<typeof runProgram>[0]> = {}) =>
  runProgram({ file: 'sh', args: ['-c', script], cwd: process.cwd(), env, timeoutMs: 10_000, ...more });

let stop: (() => void) | undefined;
const saved = process.env.ORCH_SPAWN_HELPER;
beforeEach(() => {
  process.env.ORCH_SPAWN_HELPER = '1';
});
afterEach(() => {
  stop?.();
  stop = undefined;
  if (saved === undefined) delete process.env.ORCH_SPAWN_HELPER;
  else process.env.ORCH_SPAWN_HELPER = saved;
});

describe.each([
  ['in this process', false],
  ['through the spawn helper', true],
])('runProgram %s', (_, helper) => {
  const on = (): void => {
    if (helper) stop = startSpawnHelper({ always: true });
  };

  it('returns the exit code, both outputs, and passes input and only the given environment', async () => {
    on();
    const r = await sh('cat; echo "[$FOO]"; echo oops >&2; exit 3', {
      input: 'fed\n',
      env: { ...env, FOO: 'bar' },
    });
    expect(r.code).toBe(3);
    expect(r.stdout.toString()).toBe('fed\n[bar]\n');
    expect(r.stderr.toString()).toBe('oops\n');
    expect(Buffer.isBuffer(r.stdout)).toBe(true);
    const plain = await sh('echo "[$HOME]"', { env });
    expect(plain.stdout.toString()).toBe('[]\n');
  });

  it('runs in the given folder and says when the program is missing', async () => {
    on();
    expect((await sh('pwd', { cwd: '/' })).stdout.toString()).toBe('/\n');
    const missing = await runProgram({
      file: 'orch-no-such-program',
      args: [],
      cwd: process.cwd(),
      env,
      timeoutMs: 10_000,
    });
    expect(missing.spawnError?.code).toBe('ENOENT');
  });

  it('ends a program at its timeout', async () => {
    on();
    const r = await sh('exec sleep 30', { timeoutMs: 200 });
    expect(r.timedOut).toBe(true);
    expect(r.signal).toBe('SIGTERM');
  });
});

describe('the spawn helper', () => {
  it('answers programs in flight as lost when it dies, and a new one takes the next', async () => {
    stop = startSpawnHelper({ always: true });
    // The shell's parent is the helper: it kills it while its own request is in flight.
    const r = await sh('kill -9 $PPID; sleep 5');
    expect(r.lost).toBe(true);
    expect(r.code).toBeNull();
    const next = await sh('echo again');
    expect(next.stdout.toString()).toBe('again\n');
    expect(next.lost).toBeUndefined();
  });

  it('starts many programs at once, each answered with its own output', async () => {
    stop = startSpawnHelper({ always: true });
    const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => sh(`echo ${i}`)));
    expect(rs.map((r) => r.stdout.toString().trim())).toEqual(Array.from({ length: 20 }, (_, i) => `${i}`));
  });
});

describe('the spawn helper and signals', () => {
  it("leads a process group of its own: a terminal's signal to the caller's group does not reach it", async () => {
    stop = startSpawnHelper({ always: true });
    // The helper is the parent of the shell it starts.
    const r = await sh('echo $PPID $(ps -o pgid= -p $PPID)');
    const [pid, pgid] = r.stdout.toString().trim().split(/\s+/).map(Number);
    expect(pid).not.toBe(process.pid);
    expect(pgid).toBe(pid);
    const ours = Number(execFileSync('ps', ['-o', 'pgid=', '-p', String(process.pid)], { encoding: 'utf8' }));
    expect(pgid).not.toBe(ours);
  });
});

describe('the spawn helper takes programs that start while another runs', () => {
  it('starts a program alone here, and one beside it in the helper', async () => {
    stop = startSpawnHelper();
    const alone = await sh('echo $PPID');
    expect(Number(alone.stdout.toString())).toBe(process.pid);
    const [first, second] = await Promise.all([sh('echo $PPID'), sh('echo $PPID')]);
    expect(Number(first!.stdout.toString())).toBe(process.pid);
    expect(Number(second!.stdout.toString())).not.toBe(process.pid);
  });
});

describe('the spawn helper is opt-in', () => {
  it('starts nothing unless ORCH_SPAWN_HELPER=1: programs started side by side all run here', async () => {
    delete process.env.ORCH_SPAWN_HELPER;
    stop = startSpawnHelper();
    const parents = await Promise.all([sh('echo $PPID'), sh('echo $PPID'), sh('echo $PPID')]);
    expect(parents.map((r) => Number(r.stdout.toString()))).toEqual([process.pid, process.pid, process.pid]);
  });
});
