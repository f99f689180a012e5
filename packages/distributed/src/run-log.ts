/**
 * The run log as a Redis stream: one entry per event (field `e`: the event's JSON, signed with the
 * run's key when one is given, as in `events.jsonl`). Only the supervisor appends, and only while it
 * holds the run's lease: the append script checks the lease and that the stream still ends at the
 * entry the legality check judged on, so no event is ever judged on a stale state.
 */
import {
  Lanes,
  OrchError,
  RunEvent,
  applyEvent,
  assertLegal,
  signLine,
  traced,
  verifyLine,
  type RunEventInput,
  type RunState,
} from '@orch/core';
import type { RunLog } from '@orch/engine';
import { checkedEvent } from '@orch/store';
import type { Redis } from 'ioredis';
import { blockingConnection } from './blocking.js';
import type { Keys } from './keys.js';
import type { SupervisorLease } from './lease.js';

/** KEYS: stream, lease. ARGV: lease value, expected last id, entry. */
const APPEND = `
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return {'lease'} end
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local lastId = '0-0'
if #last > 0 then lastId = last[1][1] end
if lastId ~= ARGV[2] then return {'moved', lastId} end
return {'ok', redis.call('XADD', KEYS[1], '*', 'e', ARGV[3])}
`;

const PAGE = 500;
const FOLLOW_BLOCK_MS = 1_000;
const APPEND_TRIES = 5;

type Entries = [id: string, fields: string[]][];

export interface RedisRunLogOptions {
  /** The supervisor's lease; without it the log is read-only. */
  lease?: SupervisorLease;
  /** The run's key: appends are signed, and entries without a valid MAC are skipped on read. */
  key?: Uint8Array;
}

export class RedisRunLog implements RunLog {
  state: RunState | undefined;
  /** Entries skipped on read: no valid MAC, or not a valid event. */
  skipped = 0;
  private lastId = '0-0';
  /** Reads one at a time, so two callers never apply the same entries twice. */
  private readonly reads = new Lanes(1);
  private follower: Redis | undefined;
  private readonly listeners = new Set<(events: RunEvent[]) => void>();
  private readonly stream: string;
  private readonly leaseKey: string;

  constructor(
    private readonly redis: Redis,
    keys: Keys,
    readonly run: string,
    private readonly opts: RedisRunLogOptions = {},
  ) {
    this.stream = keys.events(run);
    this.leaseKey = keys.lease(run);
  }

  async append(ev: RunEventInput): Promise<RunEvent> {
    const lease = this.opts.lease;
    if (!lease?.held) {
      throw new OrchError(
        'ERR_ORCH_SUPERVISOR_LEASE',
        `run ${this.run}: only its supervisor appends to the log`,
        {
          hint: 'This process does not hold the run lease; the supervisor of the run writes its events.',
        },
      );
    }
    const event = checkedEvent(ev);
    const json = JSON.stringify(event);
    const entry = this.opts.key ? signLine(this.opts.key, json) : json;
    for (let i = 0; i < APPEND_TRIES; i++) {
      await this.refresh();
      assertLegal(this.state, event);
      const r = (await this.redis.eval(
        APPEND,
        2,
        this.stream,
        this.leaseKey,
        lease.value,
        this.lastId,
        entry,
      )) as string[];
      if (r[0] === 'lease') {
        throw new OrchError('ERR_ORCH_SUPERVISOR_LEASE', `run ${this.run}: this supervisor lost its lease`, {
          hint: 'Another supervisor took the run over (or the lease expired); stop this one.',
        });
      }
      if (r[0] === 'ok') {
        await this.refresh();
        return event;
      }
      // 'moved': the stream grew since the check; judge again on the new state.
    }
    throw new OrchError(
      'ERR_ORCH_SUPERVISOR_LEASE',
      `run ${this.run}: the log kept moving under this supervisor`,
      {
        hint: 'Another process writes to the run log; only one supervisor may run it.',
      },
    );
  }

  async refresh(): Promise<RunEvent[]> {
    return this.reads.run(() => this.readNew());
  }

  private async readNew(): Promise<RunEvent[]> {
    const out: RunEvent[] = [];
    for (;;) {
      const page = (await this.redis.xrange(this.stream, `(${this.lastId}`, '+', 'COUNT', PAGE)) as Entries;
      for (const [id, fields] of page) {
        this.lastId = id;
        const ev = this.decode(fields);
        if (!ev) continue;
        this.state = applyEvent(this.state, ev);
        out.push(ev);
      }
      if (page.length < PAGE) break;
    }
    if (out.length > 0) for (const l of this.listeners) l(out);
    return out;
  }

  private decode(fields: string[]): RunEvent | undefined {
    const raw = fields[fields.indexOf('e') + 1];
    const json = raw === undefined ? undefined : this.opts.key ? verifyLine(this.opts.key, raw) : raw;
    if (json === undefined) {
      this.skipped++;
      return undefined;
    }
    try {
      const obj = JSON.parse(json) as Record<string, unknown>;
      delete obj.mac;
      const p = RunEvent.safeParse(obj);
      if (p.success) return p.data;
    } catch {
      // not JSON: skipped below
    }
    this.skipped++;
    return undefined;
  }

  // A stream entry is added whole or not at all: there is never a torn last record.
  async tornTail(): Promise<boolean> {
    return false;
  }

  async repairTail(): Promise<boolean> {
    return false;
  }

  async history(): Promise<RunEvent[]> {
    const out: RunEvent[] = [];
    let from = '-';
    for (;;) {
      const page = (await this.redis.xrange(this.stream, from, '+', 'COUNT', PAGE)) as Entries;
      for (const [id, fields] of page) {
        from = `(${id}`;
        const ev = this.decode(fields);
        if (ev) out.push(ev);
      }
      if (page.length < PAGE) return out;
    }
  }

  subscribe(onEvents: (events: RunEvent[]) => void): () => void {
    this.listeners.add(onEvents);
    return () => this.listeners.delete(onEvents);
  }

  /** A blocking XREAD on its own connection wakes a refresh whenever the stream grows. */
  follow(): void {
    if (this.follower) return;
    const conn = blockingConnection(this.redis);
    this.follower = conn;
    const loop = async (): Promise<void> => {
      while (this.follower === conn) {
        try {
          const got = await conn.xread(
            'COUNT',
            1,
            'BLOCK',
            FOLLOW_BLOCK_MS,
            'STREAMS',
            this.stream,
            this.lastId,
          );
          if (got && this.follower === conn) await this.refresh();
        } catch (e) {
          if (this.follower !== conn) return;
          traced('redis-log.follow')(e);
          await new Promise((r) => setTimeout(r, 200).unref());
        }
      }
    };
    void loop();
  }

  close(): void {
    const conn = this.follower;
    this.follower = undefined;
    conn?.disconnect();
  }
}
