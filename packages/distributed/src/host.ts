/**
 * A worker host (`orch host`): a BullMQ Worker with one slot per concurrent attempt. Per job it
 * fetches the base commit from the shared remote into its own clone under the work directory,
 * makes a worktree on the task branch, runs the attempt in its own tmux server (the local
 * `WorkerRuntime`), streams the output size and tail to Redis, pushes the task branch to the remote
 * with a lease on what it found there, and then records the exit. It never needs the supervisor's
 * files. BullMQ's lock on the job is the host's lease: if the host dies, the lock expires and
 * another host's stalled-job check puts the attempt back in the queue.
 *
 * The host has an identity (`host-identity.ts`): it opens the attempt's token from the box sealed
 * to it, and signs what it tells the supervisor (its channel entries, its worker records). A job
 * that is not for it (no box that opens here, a base that is not on its remote) goes back to the
 * queue for another host, without running and without counting an attempt.
 */
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Config, OrchError, traced } from '@orch/core';
import {
  orchBinPath,
  removeWorktreeLinks,
  tmuxWorkers,
  writeAttemptFiles,
  writeShim,
  type AttemptInputs,
  type WorkerRuntime,
} from '@orch/engine';
import { runGit, withRepoLock } from '@orch/git';
import { assertSafeName, runPaths, taskChannelPaths } from '@orch/store';
import { TmuxServer, socketNameFor } from '@orch/tmux';
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { ATTEMPT_QUEUE, ATTEMPT_TOKEN, AttemptJob, type AttemptResult } from './attempt-job.js';
import { HostChannel, type ExitedItem } from './channel.js';
import { connectStore, redisOptions, type StoreOptions } from './connection.js';
import { bootstrapOnHost, hostLog } from './host-bootstrap.js';
import { HostInbox } from './host-mail.js';
import { hostSandbox, workerBaseEnv } from './host-sandbox.js';
import {
  formatHostIdentity,
  loadHostIdentity,
  openSealed,
  signFields,
  type HostIdentity,
} from './host-identity.js';
import { closeMasters, prepareControlDir, sharedSshCommand } from './host-ssh.js';
import { hostOwned, keysFor, type Keys } from './keys.js';
import { SharedRateLimit, withSharedRateLimit, type RateLimitReport } from './rate-limit.js';
import { RECORD_TTL_S, TAIL_LINES, recordFields, type WorkerPhase } from './worker-state.js';

/** A job as this host runs it: the attempt's token opened from its box. */
type HostJob = Omit<AttemptJob, 'exec'> & { exec?: AttemptInputs };

/** How long a job given back waits before a host takes it again. */
const GIVE_BACK_MS = 1_500;

/**
 * KEYS: record, tail. ARGV: job id, owner, claim, ttl, has tail, tail, field/value pairs. Writes
 * only while the record is this job's and (unless claiming it) this owner's; returns 1 if written.
 */
const WRITE_RECORD = `
if redis.call('HGET', KEYS[1], 'job') ~= ARGV[1] then return 0 end
if ARGV[3] == '1' then
  redis.call('HSET', KEYS[1], 'owner', ARGV[2])
elseif redis.call('HGET', KEYS[1], 'owner') ~= ARGV[2] then
  return 0
end
for i = 7, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('EXPIRE', KEYS[1], ARGV[4])
if ARGV[5] == '1' then redis.call('SET', KEYS[2], ARGV[6], 'EX', ARGV[4]) end
return 1
`;

export interface HostOptions {
  store: StoreOptions;
  /** The shared git remote (a URL or path git understands). */
  remote: string;
  slots: number;
  workdir: string;
  name?: string;
  /** How long a job stays locked to this host without a renewal (BullMQ's lock; default 30 s). */
  lockMs?: number;
  /** How often the host reports its load (default 2 s; the record expires after 3 missed beats). */
  heartbeatMs?: number;
  /** How often a running worker's output is streamed to Redis (default 500 ms). */
  streamMs?: number;
  /** Environment for the host's tmux server (e.g. TMUX_TMPDIR). */
  tmuxEnv?: Record<string, string>;
  /** The `orch` entry point the host's workers run (`_exec`, `orch task done`); default: this one. */
  orchBin?: string;
  /** Says what the host operator should know (a job it gave back, once per reason). */
  onNotice?: (line: string) => void;
}

export class Host {
  readonly name: string;
  readonly keys: Keys;
  private worker: Worker | undefined;
  private redis: Redis | undefined;
  private beat: NodeJS.Timeout | undefined;
  private active = 0;
  private readonly startedAt = new Date().toISOString();
  private readonly tmux: TmuxServer;
  private readonly runtime: WorkerRuntime;
  /** The environment of the host's own git (a shared ssh connection, unless the user set their own). */
  private gitEnv: Record<string, string> = {};
  private limit: SharedRateLimit | undefined;
  private me: HostIdentity | undefined;
  /** Why this host last gave a job back (its heartbeat record shows it). */
  private gaveBack: string | undefined;
  private readonly told = new Set<string>();

  constructor(private readonly opts: HostOptions) {
    this.name = assertSafeName(opts.name ?? hostname(), 'host name');
    if (!Number.isInteger(opts.slots) || opts.slots < 1) {
      throw new OrchError(
        'ERR_ORCH_USAGE',
        `--slots must be a whole number of at least 1 (got ${opts.slots})`,
        {
          hint: 'Give the number of attempts this host runs at once, e.g. --slots 4.',
        },
      );
    }
    this.keys = keysFor(opts.store.prefix);
    this.tmux = new TmuxServer({
      socket: socketNameFor(opts.workdir),
      ...(opts.tmuxEnv ? { env: opts.tmuxEnv } : {}),
    });
    this.runtime = tmuxWorkers(this.tmux);
  }

  private get clone(): string {
    return join(this.opts.workdir, 'repo.git');
  }

  private get controlDir(): string {
    return join(this.opts.workdir, 'ssh');
  }

  /** Git on the host's clone (or a worktree of it); attempts run theirs side by side. */
  private git(args: string[], opts: { reject?: boolean; cwd?: string } = {}) {
    return runGit(args, { cwd: this.clone, env: this.gitEnv, ...opts });
  }

  /**
   * What changes the clone's shared state (fetches into it, its list of worktrees) takes the
   * clone's lock (@orch/git's repository lock); per-worktree commands and pushes do not.
   */
  private shared<T>(fn: () => Promise<T>): Promise<T> {
    return withRepoLock({ commonDir: this.clone }, fn);
  }

  /** The host's identity (`start` loads it; made on first use). */
  get identity(): HostIdentity {
    if (!this.me) throw new Error('host not started');
    return this.me;
  }

  async start(): Promise<void> {
    this.me = await loadHostIdentity(this.opts.workdir, this.name);
    this.redis = await connectStore(this.opts.store);
    await mkdir(this.opts.workdir, { recursive: true });
    await runGit(['init', '-q', '--bare', this.clone], { cwd: this.opts.workdir });
    await runGit(['config', 'gc.auto', '0'], { cwd: this.clone });
    const ownSsh = await runGit(['config', '--get', 'core.sshCommand'], { cwd: this.clone, reject: false });
    const ssh = sharedSshCommand({
      env: process.env,
      configured: ownSsh.exitCode === 0,
      controlDir: this.controlDir,
    });
    if (ssh) {
      await prepareControlDir(this.controlDir);
      this.gitEnv = { GIT_SSH_COMMAND: ssh };
    }
    this.limit = new SharedRateLimit(this.redis, this.keys);
    await this.tmux.ensureConfig(join(this.opts.workdir, 'tmux'));
    // Sessions left from before a restart belong to attempts BullMQ has handed on to others.
    await this.tmux.killServer().catch(traced('host.killStale'));
    await this.heartbeat();
    const every = this.opts.heartbeatMs ?? 2_000;
    this.beat = setInterval(() => void this.heartbeat().catch(traced('host.heartbeat')), every);
    this.beat.unref();
    const lockMs = this.opts.lockMs ?? 30_000;
    this.worker = new Worker<AttemptJob, AttemptResult>(ATTEMPT_QUEUE, (job) => this.process(job), {
      connection: redisOptions(this.opts.store, { forBullmq: true }),
      prefix: this.keys.bullPrefix(),
      concurrency: this.opts.slots,
      name: this.name,
      lockDuration: lockMs,
      stalledInterval: Math.max(500, Math.floor(lockMs / 2)),
      maxStalledCount: 3,
      drainDelay: 1,
    });
    this.worker.on('error', traced('host.worker'));
    await this.worker.waitUntilReady();
  }

  private async heartbeat(): Promise<void> {
    if (!this.redis) return;
    const key = this.keys.host(this.name);
    const ttl = 3 * (this.opts.heartbeatMs ?? 2_000);
    await this.redis
      .multi()
      .hset(key, {
        name: this.name,
        slots: String(this.opts.slots),
        active: String(this.active),
        startedAt: this.startedAt,
        beatAt: String(Date.now()),
        ...(this.me ? { identity: formatHostIdentity(this.me.public) } : {}),
        ...(this.gaveBack ? { gaveBack: this.gaveBack } : {}),
      })
      .pexpire(key, ttl)
      .sadd(this.keys.hosts(), this.name)
      .exec();
  }

  /** Stops taking jobs, lets running ones finish (or not, with `force`), and leaves Redis. */
  async stop(opts: { force?: boolean } = {}): Promise<void> {
    if (this.beat) clearInterval(this.beat);
    await this.worker?.close(opts.force ?? false);
    if (this.redis) {
      const owned = hostOwned(this.keys, this.name);
      const tx = this.redis.multi().del(...owned.keys);
      for (const [set, member] of owned.members) tx.srem(set, member);
      await tx.exec();
      this.redis.disconnect();
    }
    await this.tmux.killServer().catch(traced('host.killServer'));
    if (this.gitEnv.GIT_SSH_COMMAND) await closeMasters(this.controlDir);
  }

  /** ORCH_ROOT of this host's workers: their task channels are under it, as on the supervisor's machine. */
  private get root(): string {
    return join(this.opts.workdir, 'root');
  }

  /** This host's variables for an attempt's processes (over the task's own, from the job). */
  private placeEnv(worktree: string): Record<string, string> {
    return {
      ORCH_ROOT: this.root,
      ORCH_WORKTREE: worktree,
      ORCH_HOST: this.name,
      PATH: `${join(this.opts.workdir, 'bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    };
  }

  /**
   * An orch attempt's files and argv, made here with this host's paths from the job's plain inputs,
   * in this host's OS sandbox when the run's `workers.sandbox` asks for it and bwrap works here.
   */
  private async prepareAttempt(data: HostJob, worktree: string, logFile: string) {
    const exec = data.exec as NonNullable<HostJob['exec']>;
    const orchBin = this.opts.orchBin ?? orchBinPath();
    const shimDir = await writeShim(join(this.opts.workdir, 'bin'), process.execPath, orchBin);
    const channel = taskChannelPaths(runPaths(this.root, data.run).dir, data.task);
    // What an earlier attempt left here was handed on already, or belongs to an attempt given up on
    // (and may hold links its worker planted).
    await rm(channel.dir, { recursive: true, force: true });
    const config = Config.parse(data.config ?? {});
    const sandbox = await hostSandbox(
      config,
      {
        host: this.name,
        workdir: this.opts.workdir,
        clone: this.clone,
        root: this.root,
        shimDir,
        run: data.run,
        task: data.task,
        worktree,
        runtimeHidden: this.runtime.hiddenPaths(),
        env: process.env,
      },
      exec.agent,
    );
    if (sandbox.notice) await hostLog(logFile, this.name, [sandbox.notice]);
    const files = await writeAttemptFiles(
      { ...exec, sandbox: sandbox.on },
      {
        root: this.root,
        worktree,
        logFile,
        rawLog: logFile.replace(/\.log$/, '.raw.log'),
        execPath: process.execPath,
        orchBin,
        env: this.placeEnv(worktree),
        config,
        // Workers never see the store's password, whatever `workers.env_passthrough` names.
        baseEnv: workerBaseEnv(process.env),
        ...(sandbox.layout ? { sandboxLayout: sandbox.layout } : {}),
      },
    );
    return { ...files, outbox: channel.outbox, inbox: channel.inbox };
  }

  /**
   * Puts a job that is not for this host back in the queue for another: delayed a moment, not
   * failed, no attempt counted (BullMQ's `moveToDelayed` + `DelayedError`). Says why once.
   */
  private async giveBack(job: Job<AttemptJob, AttemptResult>, why: string): Promise<never> {
    this.gaveBack = why;
    if (!this.told.has(why)) {
      this.told.add(why);
      this.opts.onNotice?.(`orch host ${this.name}: gave a job back: ${why}`);
      void this.heartbeat().catch(traced('host.heartbeat'));
    }
    await job.moveToDelayed(Date.now() + GIVE_BACK_MS, job.token);
    throw new DelayedError();
  }

  /** The attempt's token from the box sealed to this host, or the job goes back. */
  private async openJob(job: Job<AttemptJob, AttemptResult>, data: AttemptJob): Promise<HostJob> {
    if (!data.exec) {
      const { exec: _none, ...plain } = data;
      return plain;
    }
    const { sealed, ...exec } = data.exec;
    const box = sealed[this.name];
    const ctx = { run: data.run, task: data.task, attempt: data.attempt };
    const token = box === undefined ? undefined : openSealed(box, this.identity, ctx);
    if (token === undefined || !ATTEMPT_TOKEN.test(token)) {
      await this.giveBack(
        job,
        box === undefined
          ? `run ${data.run} does not trust this host (add its identity to store.trusted_hosts)`
          : `run ${data.run} trusts another identity under this host's name (enroll this host again)`,
      );
    }
    return { ...data, exec: { ...exec, token: token as string } };
  }

  /** The job's base is on this host's remote (a host serving another remote gives it back). */
  private async baseHere(job: Job<AttemptJob, AttemptResult>, data: AttemptJob): Promise<void> {
    const seen = await this.git(['ls-remote', this.opts.remote, `refs/heads/${data.baseRef}`], {
      reject: false,
    });
    if (seen.exitCode === 0 && seen.stdout.trim() === '') {
      await this.giveBack(job, `the base branch of run ${data.run} is not on this host's remote`);
    }
  }

  private async process(job: Job<AttemptJob, AttemptResult>): Promise<AttemptResult> {
    const parsed = AttemptJob.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid attempt job: ${parsed.error.message}`);
    const redis = this.redis;
    if (!redis || !job.id) throw new Error('host not started');
    const data = await this.openJob(job, parsed.data);
    await this.baseHere(job, parsed.data);
    const jobId = job.id;
    const me = this.identity;
    /** A state the supervisor acts on, with this host's signature over it. */
    const signed = (s: {
      state: WorkerPhase;
      exitStatus: number | null;
      head?: string;
      error?: string;
    }): Record<string, string> => {
      const said = { job: jobId, attempt: data.attempt, host: this.name, ...s };
      return {
        state: s.state,
        host: this.name,
        exitStatus: s.exitStatus === null ? '' : String(s.exitStatus),
        head: s.head ?? '',
        error: s.error ?? '',
        sig: signFields(me, recordFields(data.run, data.worker, said)),
      };
    };
    const recordKey = this.keys.worker(data.run, data.worker);
    const tailKey = this.keys.workerTail(data.run, data.worker);
    const cancelKey = this.keys.workerCancel(data.run, jobId);
    // This processing of the job (BullMQ gives each a lock token of its own) owns the record: a
    // host that lost the job to another, or an attempt killed meanwhile, writes nothing more.
    const owner = `${this.name}:${job.token ?? ''}`;
    const write = async (fields: Record<string, string>, tail?: string, claim = false): Promise<boolean> => {
      const flat = Object.entries(fields).flat();
      const ok = await redis.eval(
        WRITE_RECORD,
        2,
        recordKey,
        tailKey,
        jobId,
        owner,
        claim ? '1' : '0',
        String(RECORD_TTL_S),
        tail === undefined ? '0' : '1',
        tail ?? '',
        ...flat,
      );
      return ok === 1;
    };
    this.active++;
    const worktree = join(this.opts.workdir, 'work', data.run, data.task);
    const logFile = join(this.opts.workdir, 'logs', data.run, `${data.worker}-${data.attempt}.log`);
    try {
      const mine = await write({ ...signed({ state: 'running', exitStatus: null }), size: '0' }, '', true);
      // Killed (or replaced) before a host took it: nothing to run.
      if (!mine) return { host: this.name, exitStatus: null, canceled: true };
      const attempt = async (): Promise<AttemptResult> => {
        // The base, and what the remote has of the task branch now (the lease of the push). In a
        // run the supervisor publishes the attempt's start as the task branch itself: one fetch
        // tells both. The fetch writes into the shared clone: under its lock, a ref per task.
        const fetched = `refs/orch-host/fetched/${data.run}/${data.task}`;
        const [, seen] = await Promise.all([
          this.shared(() =>
            this.git([
              'fetch',
              '-q',
              '--no-tags',
              '--no-write-fetch-head',
              this.opts.remote,
              `+refs/heads/${data.baseRef}:${fetched}`,
            ]),
          ),
          data.baseRef === data.branch
            ? undefined
            : this.git(['ls-remote', this.opts.remote, `refs/heads/${data.branch}`]),
        ]);
        // The base commit must be there (one git process also reads what was fetched).
        const [fetchedTip] = (await this.git(['rev-parse', fetched, `${data.base}^{commit}`])).stdout.split(
          '\n',
        );
        let expected = seen ? (seen.stdout.split(/\s/)[0] ?? '') : (fetchedTip ?? '').trim();
        await mkdir(join(this.opts.workdir, 'work', data.run), { recursive: true });
        await mkdir(join(this.opts.workdir, 'logs', data.run), { recursive: true });
        await this.shared(async () => {
          // What an earlier attempt of the task left here (a host killed mid-attempt).
          if (existsSync(worktree)) {
            await this.git(['worktree', 'remove', '--force', worktree], { reject: false });
            await rm(worktree, { recursive: true, force: true });
          }
          await this.git(['worktree', 'prune']);
          // Links a sandboxed worker of an earlier attempt planted in its branch's ref folders.
          await removeWorktreeLinks({ commonDir: this.clone }, data.run, data.task, worktree);
          await this.git(['worktree', 'add', '-q', '--force', '-B', data.branch, worktree, data.base]);
        });
        if (data.exec)
          await bootstrapOnHost({
            host: this.name,
            worktree,
            workRoot: join(this.opts.workdir, 'work'),
            depsRoot: join(this.opts.workdir, 'deps'),
            config: Config.parse(data.config ?? {}),
            env: { ...workerBaseEnv(process.env), ...data.exec.env, ...this.placeEnv(worktree) },
            logFile,
          });

        await this.runtime.kill(data.worker);
        const ex = data.exec ? await this.prepareAttempt(data, worktree, logFile) : undefined;
        await this.runtime.start({
          name: data.worker,
          cwd: worktree,
          argv: ex?.argv ?? data.argv,
          env: { ...(ex?.env ?? data.env), ORCH_WORKTREE: worktree, ORCH_HOST: this.name },
          logFile,
        });
        // What the worker says goes to the supervisor through Redis; a `done` only once its work is
        // on the remote (the supervisor fetches the task branch before it verifies).
        const pushHead = async (): Promise<string> => {
          const head = (await runGit(['rev-parse', 'HEAD'], { cwd: worktree })).stdout.trim();
          if (head !== expected) {
            // Compare-and-swap on the remote: only if the branch is still what this host saw.
            await this.git([
              'push',
              '-q',
              '--no-verify',
              `--force-with-lease=refs/heads/${data.branch}:${expected}`,
              this.opts.remote,
              `${head}:refs/heads/${data.branch}`,
            ]);
            expected = head;
          }
          return head;
        };
        // The wrapper's `exited` item says whether the agent's API asked to slow down.
        let rateLimit: RateLimitReport | undefined;
        const onExited = (item: ExitedItem): void => {
          const said = item.body.rateLimit;
          if (said && item.attempt === data.attempt && item.token === data.exec?.token) {
            rateLimit = said.resetAt ? { resetAt: said.resetAt } : {};
          }
        };
        const channel = ex
          ? new HostChannel(
              redis,
              this.keys,
              data.run,
              data.task,
              ex.outbox,
              async () => {
                await pushHead();
              },
              onExited,
              me,
            )
          : undefined;
        await channel?.placed(this.name, data.attempt);
        const inbox = ex && new HostInbox(redis, this.keys, data.run, data.task, data.attempt, ex.inbox);
        const ref = { name: data.worker, logFile };
        const deadline = Date.now() + data.timeoutMs;
        let lastSize = -1;
        for (;;) {
          if (await redis.exists(cancelKey)) {
            await this.runtime.kill(data.worker);
            return { host: this.name, exitStatus: null, canceled: true };
          }
          const st = await this.runtime.state(data.worker);
          const size = await this.runtime.outputSize(ref);
          if (size !== lastSize) {
            lastSize = size;
            const owned = await write({ size: String(size) }, await this.runtime.outputTail(ref, TAIL_LINES));
            if (!owned) {
              await this.runtime.kill(data.worker);
              return { host: this.name, exitStatus: null, canceled: true };
            }
          }
          await channel?.pump();
          await inbox?.pump();
          if (!st.exists || st.dead) break;
          if (Date.now() > deadline) {
            await this.runtime.kill(data.worker);
            break;
          }
          await this.runtime.waitForExit(data.worker, { timeoutMs: this.opts.streamMs ?? 500 });
        }
        const final = await this.runtime.state(data.worker);
        const exitStatus = final.dead ? final.exitStatus : null;
        const head = await pushHead();
        // The wrapper's last items (its exit) reach the supervisor before the record says exited.
        await channel?.pump();
        const tail = await this.runtime.outputTail(ref, TAIL_LINES);
        await write(
          {
            ...signed({ state: 'exited', exitStatus, head }),
            size: String(await this.runtime.outputSize(ref)),
          },
          tail,
        );
        return { host: this.name, exitStatus, head, ...(rateLimit ? { rateLimit } : {}) };
      };
      const agent = data.exec?.agent;
      const limit = this.limit;
      if (!agent || !limit) return await attempt();
      // A limit another host (or this one) ran into holds back this agent's attempts on every host.
      const held = await limit.heldFor(agent);
      if (held > 0) {
        await write(
          {},
          `host ${this.name}: holding back ${agent} for ${Math.ceil(held / 1000)} s (its API asked every host to slow down)\n`,
        );
      }
      const canceled = new AbortController();
      const watch = setInterval(() => {
        void redis
          .exists(cancelKey)
          .then((n) => n > 0 && canceled.abort())
          .catch(traced('host.cancelWatch'));
      }, 1_000);
      try {
        return await withSharedRateLimit(
          limit,
          agent,
          () => {
            clearInterval(watch);
            return attempt();
          },
          (r) => r.rateLimit,
          { signal: canceled.signal },
        );
      } catch (e) {
        if (canceled.signal.aborted) return { host: this.name, exitStatus: null, canceled: true };
        throw e;
      } finally {
        clearInterval(watch);
      }
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      await write(signed({ state: 'exited', exitStatus: null, error })).catch(traced('host.report'));
      return { host: this.name, exitStatus: null, error };
    } finally {
      this.active--;
      void this.heartbeat().catch(traced('host.heartbeat'));
      await this.runtime.kill(data.worker).catch(traced('host.cleanup'));
      await this.shared(() => this.git(['worktree', 'remove', '--force', worktree], { reject: false })).catch(
        traced('host.cleanup'),
      );
    }
  }
}
