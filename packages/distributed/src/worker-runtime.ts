/**
 * The supervisor's `WorkerRuntime` in a distributed run: starting a worker adds a BullMQ job that
 * a host takes (priority from the task's longest remaining path); killing it sets a cancel key the
 * host watches (and removes a job no host has taken yet); its state, output size and output tail
 * are the Redis keys the host writes. Nothing here reads a host's files. The attempt's token is
 * sealed to each trusted host (`store.trusted_hosts`); what a record says of the attempt's end is
 * taken only with the signature of a trusted host.
 */
import { randomBytes } from 'node:crypto';
import { OrchError, type Config } from '@orch/core';
import type { WorkerRef, WorkerRuntime, WorkerSpec, WorkerStatus } from '@orch/engine';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { ATTEMPT_QUEUE, AttemptJob, bullPriority } from './attempt-job.js';
import { redisOptions, type StoreOptions } from './connection.js';
import { sealFor, verifyFields, type HostPublicIdentity } from './host-identity.js';
import type { Keys } from './keys.js';
import { RECORD_TTL_S, parseWorkerRecord, recordFields, type WorkerRecord } from './worker-state.js';

/** Where and how an attempt runs: what the supervisor knows beyond the spec. */
export interface AttemptPlacement {
  task: string;
  attempt: number;
  baseRef: string;
  base: string;
  branch: string;
  longestPath: number;
  timeoutMs?: number;
}

export interface BullWorkerRuntimeOptions {
  store: StoreOptions;
  redis: Redis;
  keys: Keys;
  run: string;
  /** The attempt a spec belongs to (the run's launch knows it). */
  placement: (spec: WorkerSpec) => AttemptPlacement | Promise<AttemptPlacement>;
  /** The run's configuration, sent with each orch attempt (its agent command is built with it). */
  config?: Config;
  /** The hosts the run trusts (`trustedHosts(config.store.trusted_hosts)`): only they get a token. */
  trusted: ReadonlyMap<string, HostPublicIdentity>;
  /** A record that says more than its state without a trusted host's signature (once per forgery). */
  onForged?: (task: string, reason: string) => void;
  /**
   * Called before an exit is reported: a host puts what its worker said (its `done`) on the task's
   * channel before it records the exit, so pulling the channels here means no one acts on an exit
   * whose report is still in Redis (a resume would start the attempt again).
   */
  beforeExited?: () => Promise<void>;
}

const POLL_MS = 250;
const DEFAULT_TIMEOUT_MS = 4 * 3600_000;

export class BullWorkerRuntime implements WorkerRuntime {
  readonly queue: Queue;
  /** Hosts make each attempt's files from its plain inputs (`WorkerSpec.attempt`). */
  readonly remote = true;
  private readonly redis: Redis;
  private readonly keys: Keys;
  private readonly run: string;
  /** Each started worker's task (a forged record is reported on its task's channel). */
  private readonly tasks = new Map<string, string>();
  private readonly forgeries = new Set<string>();

  constructor(private readonly opts: BullWorkerRuntimeOptions) {
    this.redis = opts.redis;
    this.keys = opts.keys;
    this.run = opts.run;
    this.queue = new Queue(ATTEMPT_QUEUE, {
      connection: redisOptions(opts.store, { forBullmq: true }),
      prefix: opts.keys.bullPrefix(),
    });
  }

  /**
   * The record as far as a trusted host signed it: past `queued`, a record whose signature does not
   * verify says only that a host may be at it (BullMQ's job state still tells a lost attempt).
   */
  private async record(name: string): Promise<WorkerRecord | undefined> {
    const rec = parseWorkerRecord(await this.redis.hgetall(this.keys.worker(this.run, name)));
    if (!rec || rec.state === 'queued') return rec;
    const host = rec.host ? this.opts.trusted.get(rec.host) : undefined;
    if (
      host &&
      rec.sig &&
      verifyFields(host, recordFields(this.run, name, { ...rec, host: host.name }), rec.sig)
    ) {
      return rec;
    }
    const seen = `${name}\n${rec.sig ?? ''}\n${rec.state}`;
    if (!this.forgeries.has(seen)) {
      this.forgeries.add(seen);
      const why = host
        ? 'its signature does not verify'
        : `host ${JSON.stringify(rec.host ?? '')} is not trusted`;
      this.opts.onForged?.(this.tasks.get(name) ?? name, `worker record of ${name} refused: ${why}`);
    }
    const { head: _head, error: _error, sig: _sig, ...said } = rec;
    return { ...said, state: 'running', exitStatus: null };
  }

  /** The token sealed to every trusted host, bound to the attempt and the host. */
  private seal(exec: NonNullable<WorkerSpec['attempt']>): Record<string, string> {
    if (this.opts.trusted.size === 0) throw noTrustedHost();
    const { token } = exec;
    const ctx = { run: exec.run, task: exec.task, attempt: exec.attempt };
    return Object.fromEntries(
      [...this.opts.trusted.values()].map((h) => [h.name, sealFor(token, h, { ...ctx, host: h.name })]),
    );
  }

  async start(spec: WorkerSpec): Promise<void> {
    const p = await this.opts.placement(spec);
    const data = AttemptJob.parse({
      run: this.run,
      task: p.task,
      attempt: p.attempt,
      worker: spec.name,
      baseRef: p.baseRef,
      base: p.base,
      branch: p.branch,
      argv: [...spec.argv],
      env: spec.env,
      ...(spec.attempt
        ? {
            exec: { ...withoutToken(spec.attempt), sealed: this.seal(spec.attempt) },
            ...(this.opts.config ? { config: this.opts.config } : {}),
          }
        : {}),
      longestPath: p.longestPath,
      timeoutMs: p.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    });
    // A worker of the same name that ended is replaced: a new job id, a fresh record.
    const jobId = `${this.run}.${spec.name}.${p.attempt}.${randomBytes(4).toString('hex')}`;
    this.tasks.set(spec.name, p.task);
    const key = this.keys.worker(this.run, spec.name);
    await this.redis
      .multi()
      .del(key, this.keys.workerTail(this.run, spec.name))
      .hset(key, { state: 'queued', job: jobId, attempt: String(p.attempt), size: '0' })
      .expire(key, RECORD_TTL_S)
      .exec();
    await this.queue.add('attempt', data, {
      jobId,
      priority: bullPriority(p.longestPath),
      attempts: 1,
      removeOnComplete: { count: 1000 },
      removeOnFail: { count: 1000 },
    });
  }

  async kill(name: string): Promise<void> {
    const rec = await this.record(name);
    if (!rec) return;
    if (rec.job) {
      // The host running it sees the cancel key; a job still waiting is simply taken away.
      await this.redis.set(this.keys.workerCancel(this.run, rec.job), '1', 'EX', RECORD_TTL_S);
      const job = await this.queue.getJob(rec.job);
      if (job && (await job.getState()) !== 'active') await job.remove().catch(() => undefined);
    }
    await this.redis.del(this.keys.worker(this.run, name), this.keys.workerTail(this.run, name));
  }

  async state(name: string): Promise<WorkerStatus> {
    const rec = await this.record(name);
    if (!rec) return { exists: false, dead: false, exitStatus: null };
    if (rec.state === 'exited') {
      await this.opts.beforeExited?.();
      return { exists: true, dead: true, exitStatus: rec.exitStatus };
    }
    // A job BullMQ gave up on (stalled too often, or removed) has no host left to report its end.
    const js = rec.job ? await this.queue.getJobState(rec.job) : 'unknown';
    if (js === 'failed' || js === 'unknown') return { exists: true, dead: true, exitStatus: null };
    return { exists: true, dead: false, exitStatus: null };
  }

  /** The record the host keeps (its host name, head commit, error), for views and reports. */
  async describe(name: string): Promise<WorkerRecord | undefined> {
    return this.record(name);
  }

  async waitForExit(name: string, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<void> {
    const deadline = Date.now() + opts.timeoutMs;
    while (Date.now() < deadline && !opts.signal?.aborted) {
      const s = await this.state(name);
      if (!s.exists || s.dead) return;
      await new Promise((r) => setTimeout(r, Math.min(POLL_MS, Math.max(0, deadline - Date.now()))));
    }
  }

  async outputSize(ref: WorkerRef): Promise<number> {
    return (await this.record(ref.name))?.size ?? 0;
  }

  async outputTail(ref: WorkerRef, lines: number): Promise<string> {
    // The host stores the last TAIL_LINES lines already; this cuts them to what is asked.
    const text = (await this.redis.get(this.keys.workerTail(this.run, ref.name))) ?? '';
    return text === '' ? '' : text.replace(/\n+$/, '').split('\n').slice(-lines).join('\n');
  }

  // The sandbox is each host's own: the supervisor's side has no runtime files a worker could reach.
  hiddenPaths(): readonly string[] {
    return [];
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}

function withoutToken<T extends { token: string }>(a: T): Omit<T, 'token'> {
  const { token: _token, ...rest } = a;
  return rest;
}

/** A distributed run with no host to give its attempts' secrets to. */
export function noTrustedHost(): OrchError {
  return new OrchError(
    'ERR_ORCH_HOST_UNTRUSTED',
    'the distributed run trusts no worker host (store.trusted_hosts is empty)',
    {
      hint: 'On each host run `orch host --identity --workdir DIR --name NAME` and paste the line it prints into the config: store: { trusted_hosts: { NAME: <line> } }.',
    },
  );
}
