/**
 * No command orch starts outlives its timeout, even when the supervisor that started it dies
 * (SIGKILL, a crash, a closed terminal). Each verification and integration command runs in its
 * own process group with a detached watchdog process beside it that ends the group at the
 * deadline on its own, and the running groups of a run are recorded in its folder
 * (`commands/<pgid>.json`) so that `orch state resume` stops any leftover before it starts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Grace between SIGTERM and SIGKILL for a timed-out process group. */
export const KILL_GRACE_MS = 3000;
/** The watchdog fires this long after the supervisor's own timer, which normally wins. */
const WATCHDOG_MARGIN_MS = 1000;

// Runs as `node -e WATCHDOG <pgid> <deadline epoch ms> <grace ms>`: a file next to this module
// would not exist when the sources run directly (tests), a script on the command line always does.
const WATCHDOG = `
const [pg, deadline, grace] = process.argv.slice(1).map(Number);
const alive = () => { try { process.kill(-pg, 0); return true; } catch (e) { return e.code === 'EPERM'; } };
const kill = (s) => { try { process.kill(-pg, s); } catch {} };
const tick = () => {
  if (!alive()) process.exit(0);
  const left = deadline - Date.now();
  if (left > 0) return void setTimeout(tick, Math.min(500, left));
  kill('SIGTERM');
  setTimeout(() => { kill('SIGKILL'); process.exit(0); }, grace);
};
tick();
`;

/** Starts the watchdog of process group `pgid`. */
export function startWatchdog(pgid: number, timeoutMs: number): ChildProcess {
  const deadline = Date.now() + timeoutMs + WATCHDOG_MARGIN_MS;
  const w = spawn(process.execPath, ['-e', WATCHDOG, String(pgid), String(deadline), String(KILL_GRACE_MS)], {
    detached: true, // its own group: it survives the supervisor and the group it watches
    stdio: 'ignore',
    env: {},
  });
  w.on('error', () => undefined);
  w.unref();
  return w;
}

/** Ends a watchdog whose command finished (it would notice within half a second anyway). */
export function stopWatchdog(w: ChildProcess): void {
  // Only while Node has not reaped it: a reaped pid may belong to someone else by now.
  if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
}

export interface CommandRecord {
  pgid: number;
  command: string;
  cwd: string;
  startedAt: string;
  /** The group leader's start time (Linux, /proc), so that a reused id is never killed. */
  startTime?: string;
}

/** Where the supervisor of this process records its running commands (one supervisor per process). */
let recordDir: string | undefined;

/** The folder of a run's command records. */
export function commandRecordDir(runDir: string): string {
  return join(runDir, 'commands');
}

/** Records the commands this process starts in `runDir` from now on (the supervisor calls it). */
export function recordCommandsIn(runDir: string | undefined): void {
  recordDir = runDir === undefined ? undefined : commandRecordDir(runDir);
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks), or undefined off Linux. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from its closing one.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

export async function recordCommand(rec: CommandRecord): Promise<string | undefined> {
  if (!recordDir) return undefined;
  const file = join(recordDir, `${rec.pgid}.json`);
  try {
    await mkdir(recordDir, { recursive: true });
    await writeFile(file, `${JSON.stringify(rec)}\n`);
    return file;
  } catch {
    return undefined; // the watchdog still holds the deadline
  }
}

export async function forgetCommand(file: string | undefined): Promise<void> {
  if (file) await rm(file, { force: true });
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The recorded commands of a run whose process group still exists: left behind by a supervisor
 * that died. A group whose leader is alive but started at another time is someone else's (its id
 * was reused) and is not listed.
 */
export async function leftoverCommands(runDir: string): Promise<(CommandRecord & { file: string })[]> {
  const dir = commandRecordDir(runDir);
  const names = await readdir(dir).catch(() => [] as string[]);
  const out: (CommandRecord & { file: string })[] = [];
  for (const name of names) {
    if (!name.endsWith('.json')) continue;
    const file = join(dir, name);
    let rec: CommandRecord;
    try {
      rec = JSON.parse(await readFile(file, 'utf8')) as CommandRecord;
    } catch {
      await rm(file, { force: true });
      continue;
    }
    const live =
      Number.isInteger(rec.pgid) &&
      rec.pgid > 1 &&
      groupAlive(rec.pgid) &&
      (rec.startTime === undefined ||
        processStartTime(rec.pgid) === undefined ||
        processStartTime(rec.pgid) === rec.startTime);
    if (live) out.push({ ...rec, file });
    else await rm(file, { force: true });
  }
  return out;
}

/**
 * Ends the leftover commands of a run (SIGKILL to each group); returns them. Their watchdogs exit
 * by themselves once the group is gone.
 */
export async function stopLeftoverCommands(runDir: string): Promise<CommandRecord[]> {
  const left = await leftoverCommands(runDir);
  for (const rec of left) {
    try {
      process.kill(-rec.pgid, 'SIGKILL');
    } catch {
      // ended meanwhile
    }
    await rm(rec.file, { force: true });
  }
  return left;
}
