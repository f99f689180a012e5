/**
 * The worker's record in Redis, written by the host that runs it and read by the supervisor: one
 * hash per worker name (state, job, host, output size, exit) and its output's last lines. What the
 * supervisor acts on (state, exit status, head, error) the host signs (`sig`), bound to the run, the
 * worker, the job and the attempt; the supervisor takes it only with a trusted host's signature.
 */
export type WorkerPhase = 'queued' | 'running' | 'exited';

export interface WorkerRecord {
  state: WorkerPhase;
  /** The BullMQ job of the attempt running under this name. */
  job: string;
  attempt: number;
  host?: string;
  size: number;
  exitStatus: number | null;
  head?: string;
  error?: string;
  /** The host's signature over `recordFields` (absent on the supervisor's own `queued`). */
  sig?: string;
}

/** The record's fields a host signs, in order: what it says plus where it belongs. */
export function recordFields(
  run: string,
  worker: string,
  r: Pick<WorkerRecord, 'job' | 'attempt' | 'state' | 'exitStatus' | 'head' | 'error'> & { host: string },
): string[] {
  return [
    'record',
    run,
    worker,
    r.job,
    String(r.attempt),
    r.host,
    r.state,
    r.exitStatus === null ? '' : String(r.exitStatus),
    r.head ?? '',
    r.error ?? '',
  ];
}

export function parseWorkerRecord(h: Record<string, string>): WorkerRecord | undefined {
  const state = h.state;
  if (state !== 'queued' && state !== 'running' && state !== 'exited') return undefined;
  const exit = h.exitStatus === undefined || h.exitStatus === '' ? null : Number(h.exitStatus);
  return {
    state,
    job: h.job ?? '',
    attempt: Number(h.attempt ?? 0),
    ...(h.host ? { host: h.host } : {}),
    size: Number(h.size ?? 0) || 0,
    exitStatus: exit === null || Number.isNaN(exit) ? null : exit,
    ...(h.head ? { head: h.head } : {}),
    ...(h.error ? { error: h.error } : {}),
    ...(h.sig ? { sig: h.sig } : {}),
  };
}

/** Lines of output kept in Redis per worker (what the dashboard and idle detection read). */
export const TAIL_LINES = 200;
/** Worker records outlive the run by this much, then Redis forgets them. */
export const RECORD_TTL_S = 7 * 24 * 3600;
