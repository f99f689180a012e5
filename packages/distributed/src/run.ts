/**
 * A distributed run's ports, composed for the supervisor (which runs in the user's checkout, as in
 * a local run): the journal is the run's Redis stream, written only under the supervisor lease
 * (renewed while the supervisor lives; a second supervisor of the run is refused); task attempts
 * are BullMQ jobs that `orch host` processes run; staging and the task branches move through the
 * shared git remote; what workers say on their hosts reaches the supervisor's intake through the
 * channel bridge. The run is listed in the store (`keys.runs()`) with its frozen plan (`keys.plan`).
 */
import { remainingPathLengths, traced, type Config, type Plan, type RunState } from '@orch/core';
import {
  USER_CHANNEL,
  decideDeps,
  gitRepository,
  type DepsPorts,
  type RunLog,
  type UserCheckout,
  type RunPorts,
  type RunStartInfo,
  type WorkerRuntime,
} from '@orch/engine';
import { Repo, runGit } from '@orch/git';
import { ensureRunKey, runPaths } from '@orch/store';
import type { Redis } from 'ioredis';
import { ChannelBridge } from './channel.js';
import { connectStore, type StoreOptions } from './connection.js';
import { trustedHosts } from './host-identity.js';
import { keysFor, type Keys } from './keys.js';
import { SupervisorLease } from './lease.js';
import {
  fetchTaskWork,
  publishRunStart,
  publishTaskStart,
  remoteRepository,
  type RemoteOptions,
} from './remote.js';
import { RedisRunLog } from './run-log.js';
import { handedToHosts, mailToHost, mailToHosts } from './host-mail.js';
import { RedisMailbox } from './mailbox.js';
import { RedisUserOutbox, serveUserOutbox, type DepsHandler } from './user-outbox.js';
import { BullWorkerRuntime } from './worker-runtime.js';

export interface DistributedRunOptions {
  store: StoreOptions;
  /** The shared git remote. */
  remote: string;
  repoRoot: string;
  /** The supervisor lease's time-to-live (default 15 s). */
  leaseMs?: number;
}

/** What the CLI holds for one distributed run: open it, take its ports, close it at the end. */
export class DistributedRun {
  readonly keys: Keys;
  private lease: SupervisorLease | undefined;
  private journal: RedisRunLog | undefined;
  private bridge: ChannelBridge | undefined;
  private runtime: BullWorkerRuntime | undefined;
  private key: Buffer | undefined;
  private stopUserChannel: (() => Promise<void>) | undefined;
  /** Set when the base branch could not be fast-forwarded on the remote (it is not needed there). */
  basePushed = true;
  private closed = false;

  private constructor(
    private readonly o: DistributedRunOptions,
    readonly redis: Redis,
  ) {
    this.keys = keysFor(o.store.prefix);
  }

  static async connect(o: DistributedRunOptions): Promise<DistributedRun> {
    return new DistributedRun(o, await connectStore(o.store));
  }

  /** The shared git remote, as this supervisor reaches it. */
  get remote(): string {
    return this.o.remote;
  }

  /**
   * Continues a run taken over (`takeOverRun`) instead of opening a new one: its lease and its log
   * are this supervisor's from now on (`close` releases the lease).
   */
  adopt(taken: { lease: SupervisorLease; log: RedisRunLog }, key: Uint8Array): void {
    this.lease = taken.lease;
    this.journal = taken.log;
    this.key = Buffer.from(key);
  }

  private remoteFor(run: string): RemoteOptions {
    return { repoRoot: this.o.repoRoot, url: this.o.remote, run };
  }

  /**
   * `prepareRun`'s journal: takes the run's lease, publishes staging (and the base) on the remote,
   * lists the run in the store with its frozen plan, and returns the run's log in Redis.
   */
  openJournal = async (run: string, start: RunStartInfo): Promise<RunLog> => {
    const lease = await SupervisorLease.acquire(this.redis, this.keys, run, {
      ...(this.o.leaseMs !== undefined ? { ttlMs: this.o.leaseMs } : {}),
    });
    this.lease = lease;
    ({ basePushed: this.basePushed } = await publishRunStart(this.remoteFor(run), start));
    await this.redis
      .multi()
      .set(this.keys.plan(run), start.planText)
      .zadd(this.keys.runs(), Date.now(), run)
      .exec();
    const key = await ensureRunKey(runPaths(this.o.repoRoot, run).dir);
    this.key = key;
    this.journal = new RedisRunLog(this.redis, this.keys, run, { lease, key });
    return this.journal;
  };

  /**
   * The supervisor's ports for the run opened with `openJournal` (or adopted). `promoteBase`: this
   * supervisor is not in the user's checkout, so promotion moves that branch on the remote (a
   * fast-forward with a lease) and no checkout here is fast-forwarded.
   */
  async ports(
    run: string,
    plan: Plan,
    config: Config,
    opts: { promoteBase?: string } = {},
  ): Promise<RunPorts> {
    const journal = this.journal;
    if (!journal) throw new Error('the run journal is not open');
    const remote = this.remoteFor(run);
    const priorities = remainingPathLengths(plan);
    const trusted = trustedHosts(config.store.trusted_hosts);
    const forged = forgeryJournal(journal);
    const bull = new BullWorkerRuntime({
      trusted,
      onForged: (task, reason) => void forged(task, reason),
      beforeExited: () => this.bridge?.pull() ?? Promise.resolve(),
      store: this.o.store,
      redis: this.redis,
      keys: this.keys,
      run,
      config,
      placement: async (spec) => {
        const inputs = spec.attempt;
        if (!inputs) throw new Error(`worker ${spec.name} is not an orch attempt`);
        // The attempt starts from the supervisor's copy of the task (spec.cwd), published first.
        const head = (await runGit(['rev-parse', '--verify', 'HEAD'], { cwd: spec.cwd })).stdout.trim();
        const branch = await publishTaskStart(remote, inputs.task, head);
        return {
          task: inputs.task,
          attempt: inputs.attempt,
          baseRef: branch,
          base: head,
          branch,
          longestPath: priorities.get(inputs.task) ?? 0,
          // The supervisor enforces the task's timeout; the host's is a backstop beyond it.
          timeoutMs: (config.orchestration.task_timeout + 300) * 1000,
        };
      },
    });
    this.runtime = bull;
    const bridge = new ChannelBridge({
      redis: this.redis,
      keys: this.keys,
      run,
      runDir: runPaths(this.o.repoRoot, run).dir,
      tasks: () => journal.state?.order ?? plan.tasks.map((t) => t.id),
      beforeReport: (task) => fetchTaskWork(remote, task, journal.state?.tasks[task]?.worktree),
      trusted,
      placedOn: (task) => {
        const t = journal.state?.tasks[task];
        return t ? { attempt: t.attempt, ...(t.host !== undefined ? { host: t.host } : {}) } : undefined;
      },
      onForged: forged,
      onPlaced: async (task, attempt, host) => {
        const t = journal.state?.tasks[task];
        if (!t) return true;
        if (t.attempt < attempt) return false; // its task.started comes first
        if (t.attempt === attempt)
          await journal.append({ type: 'task.placed', task, attempt, host }).catch(traced('run.placed'));
        return true;
      },
    });
    this.bridge = bridge;
    bridge.start();
    const repo = await Repo.open(this.o.repoRoot);
    const repository = remoteRepository(
      gitRepository(repo),
      remote,
      opts.promoteBase !== undefined ? { promoteBase: opts.promoteBase } : {},
    );
    if (this.key)
      this.stopUserChannel = await serveUserChannel({
        redis: this.redis,
        keys: this.keys,
        run,
        key: this.key,
        journal,
        deps: supervisorDeps({ repoRoot: this.o.repoRoot, run, journal, repository, config }),
      });
    const workers: WorkerRuntime = {
      remote: true,
      start: (spec) => bull.start(spec),
      kill: (name) => bull.kill(name),
      // An attempt that ended has sent its last items before its host recorded the exit: they are
      // handed to the intake before the supervisor hears of the end.
      async state(name) {
        const s = await bull.state(name);
        if (s.dead || !s.exists) await bridge.pull();
        return s;
      },
      waitForExit: (name, opts) => bull.waitForExit(name, opts),
      outputSize: (ref) => bull.outputSize(ref),
      outputTail: (ref, lines) => bull.outputTail(ref, lines),
      hiddenPaths: () => bull.hiddenPaths(),
      deliverMail: (task, attempt, msg) => mailToHost(this.redis, this.keys, run, task, attempt, msg),
    };
    return {
      journal,
      workers,
      repository,
      ...(opts.promoteBase !== undefined ? { userCheckout: noUserCheckout } : {}),
    };
  }

  /**
   * Hands what hosts said meanwhile (reports, exits) to the intake's task channels now: a takeover
   * reconciles with them, instead of restarting an attempt whose report waits in Redis.
   */
  async pullChannels(): Promise<void> {
    await this.bridge?.pull();
  }

  /** Stops everything this run started and releases its lease; a second call does nothing. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.stopUserChannel?.().catch(traced('run.user.close'));
    await this.bridge?.close().catch(traced('run.bridge.close'));
    await this.runtime?.close().catch(traced('run.queue.close'));
    this.journal?.close();
    await this.lease?.release();
    this.redis.disconnect();
  }
}

const FORGED_PER_MINUTE = 10;

/**
 * Journals what was refused as not a trusted host's own, as the intake journals a local forgery
 * (`worker.rejected`), at most a few per task and minute (the rest are counted in `dropped`).
 */
function forgeryJournal(journal: RunLog): (task: string, reason: string) => Promise<void> {
  const seen = new Map<string, { window: number; count: number; dropped: number }>();
  return async (task, reason) => {
    const window = Math.floor(Date.now() / 60_000);
    const r = seen.get(task) ?? { window, count: 0, dropped: 0 };
    if (r.window !== window) Object.assign(r, { window, count: 0 });
    seen.set(task, r);
    if (r.count >= FORGED_PER_MINUTE) {
      r.dropped += 1;
      return;
    }
    r.count += 1;
    const dropped = r.dropped;
    r.dropped = 0;
    await journal
      .append({
        type: 'worker.rejected',
        channel: task,
        reason: reason.slice(0, 500),
        kind: 'forged',
        dropped,
      })
      .catch(traced('run.forged'));
  };
}

/** A supervisor away from the user's machine has none of the user's checkouts. */
const noUserCheckout: UserCheckout = {
  checkedOutAt: () => Promise.resolve(undefined),
  obstacles: () => Promise.reject(new Error('no checkout of the user is here')),
  fastForward: () => Promise.reject(new Error('no checkout of the user is here')),
};

/**
 * The user's decisions on dependency requests (`orch deps approve|deny --store`), carried out by the
 * supervisor with the engine's rules on its own ports: the install on a worktree of its checkout,
 * staging moved with the repository's compare-and-swap (which pushes it to the remote with the
 * lease), the events on the run's log, the mail through the user's channel.
 */
export function supervisorDeps(p: Omit<DepsPorts, 'mailbox' | 'item'>): DepsHandler {
  return (decision, c) => decideDeps({ ...p, mailbox: c.mailbox, item: c.item }, decision);
}

const USER_POLL_MS = 250;

/**
 * The user's channel of a live distributed supervisor: what the user sends with `--store` from any
 * machine (messages, reports) is taken from the run's user outbox in Redis, judged by the intake's
 * rules (`serveUserOutbox`: the user token, the lifecycle table) and answered, so the sender gets
 * the supervisor's verdict. Items journaled before (a repeat after a crash) are answered only.
 * Returns the function that stops it (after the pass in flight).
 */
export async function serveUserChannel(o: {
  redis: Redis;
  keys: Keys;
  run: string;
  key: Buffer;
  journal: RunLog;
  /** Carries out the user's dependency decisions (absent: they are refused). */
  deps?: DepsHandler;
}): Promise<() => Promise<void>> {
  const seen = new Set(
    (await o.journal.history()).flatMap((e) => ('item' in e && typeof e.item === 'string' ? [e.item] : [])),
  );
  const outbox = new RedisUserOutbox(o.redis, o.keys, o.run);
  const tasks = (): readonly string[] => o.journal.state?.order ?? [];
  let stopped = false;
  let pass: Promise<unknown> = Promise.resolve();
  const turn = (): void => {
    pass = serveUserOutbox(outbox, {
      key: o.key,
      state: () => o.journal.state as RunState,
      append: (ev) => o.journal.append(ev),
      mailbox: handedToHosts(new RedisMailbox(o.redis, o.keys, o.run, { tasks: tasks() }), (msg) =>
        mailToHosts(o.redis, o.keys, o.run, o.journal.state as RunState, msg),
      ),
      seen,
      ...(o.deps ? { deps: o.deps } : {}),
      onRefused: async (reason, kind) => {
        await o.journal.append({
          type: 'worker.rejected',
          channel: USER_CHANNEL,
          reason,
          ...(kind ? { kind } : {}),
        });
      },
    })
      .catch(traced('run.user.serve'))
      .finally(() => {
        if (!stopped) timer = setTimeout(turn, USER_POLL_MS);
      });
  };
  let timer: NodeJS.Timeout | undefined = setTimeout(turn, 0);
  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    timer = undefined;
    await pass;
  };
}
