/**
 * The supervisor lease: one key per run, set with `SET NX PX` by the supervisor that runs it and
 * renewed while it lives. A second supervisor is refused while the key exists; once the holder
 * dies, its renewals stop, the key expires, and another can take the run over. The run log checks
 * the lease in the same script that appends, so a supervisor that lost it cannot write.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { OrchError, traced } from '@orch/core';
import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';

export interface LeaseOptions {
  /** How long the lease outlives the last renewal (default 15 s). */
  ttlMs?: number;
  /** Who holds it, for the refusal message (default host:pid). */
  holder?: string;
  /** Called once when a renewal finds the lease gone or taken. */
  onLost?: () => void;
}

interface LeaseValue {
  token: string;
  holder: string;
  since: string;
}

const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

export class SupervisorLease {
  private timer: NodeJS.Timeout | undefined;
  private lost = false;
  private lastRenewed: number;

  private constructor(
    private readonly redis: Redis,
    readonly key: string,
    /** The stored value: only its holder knows it, and the append script compares it. */
    readonly value: string,
    readonly ttlMs: number,
    private readonly onLost?: () => void,
  ) {
    this.lastRenewed = Date.now();
  }

  /** Takes the run's lease or throws ERR_ORCH_SUPERVISOR_LEASE naming the holder. */
  static async acquire(
    redis: Redis,
    keys: Keys,
    run: string,
    opts: LeaseOptions = {},
  ): Promise<SupervisorLease> {
    const ttlMs = Math.max(200, opts.ttlMs ?? 15_000);
    const key = keys.lease(run);
    const v: LeaseValue = {
      token: randomBytes(16).toString('hex'),
      holder: opts.holder ?? `${hostname()}:${process.pid}`,
      since: new Date().toISOString(),
    };
    const value = JSON.stringify(v);
    const ok = await redis.set(key, value, 'PX', ttlMs, 'NX');
    if (ok !== 'OK') {
      const [cur, left] = await Promise.all([redis.get(key), redis.pttl(key)]);
      let holder = 'another supervisor';
      try {
        holder = (JSON.parse(cur ?? '{}') as Partial<LeaseValue>).holder ?? holder;
      } catch {
        // a value orch did not write: still a holder
      }
      throw new OrchError(
        'ERR_ORCH_SUPERVISOR_LEASE',
        `run ${run} is supervised by ${holder} (its lease has ${Math.max(0, left)} ms left)`,
        {
          hint: 'One supervisor per run: stop the other one, or resume once its lease has expired.',
          details: { run, holder, leaseMsLeft: Math.max(0, left) },
        },
      );
    }
    const lease = new SupervisorLease(redis, key, value, ttlMs, opts.onLost);
    lease.schedule();
    return lease;
  }

  /**
   * False once a renewal found the lease gone or another holder's, once its time-to-live passed
   * without a renewal (it may have expired in Redis), or after `release`.
   */
  get held(): boolean {
    return !this.lost && Date.now() - this.lastRenewed < this.ttlMs;
  }

  private schedule(): void {
    this.timer = setTimeout(
      () => {
        this.renew()
          .catch(traced('lease.renew'))
          .finally(() => {
            if (!this.lost) this.schedule();
          });
      },
      Math.floor(this.ttlMs / 3),
    );
    this.timer.unref();
  }

  /** Extends the lease; false (and lost for good) when it is no longer this holder's. */
  async renew(): Promise<boolean> {
    if (this.lost) return false;
    let ok: boolean;
    try {
      ok = (await this.redis.eval(RENEW, 1, this.key, this.value, String(this.ttlMs))) === 1;
    } catch (e) {
      // Redis out of reach: the lease may still be ours until its time is up.
      if (Date.now() - this.lastRenewed < this.ttlMs) throw e;
      ok = false;
    }
    if (ok) this.lastRenewed = Date.now();
    else this.markLost();
    return ok;
  }

  private markLost(): void {
    if (this.lost) return;
    this.lost = true;
    if (this.timer) clearTimeout(this.timer);
    this.onLost?.();
  }

  /** Stops renewing and deletes the key if it is still this holder's. */
  async release(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    const was = this.lost;
    this.lost = true;
    if (!was) await this.redis.eval(RELEASE, 1, this.key, this.value).catch(traced('lease.release'));
  }
}
