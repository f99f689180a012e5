/**
 * `orch state resume --store`: a distributed run whose supervisor died, from any machine. The lease
 * is taken over once it expired (refused, naming the holder, while it is live), the dead supervisor
 * is journaled as stopped, and every open task is reconciled against the store (its attempt's
 * worker record and its host's heartbeat). `--dry-run` shows that plan and takes nothing.
 */
import { hostname } from 'node:os';
import { ExitCode, OrchError, terminalSafeLine } from '@orch/core';
import type { StoreResumePlan } from '@orch/distributed';
import type { CommandIO, CommandResult } from '../../define.js';
import { paint } from '../../output.js';
import { requireRunKey, withStoreRun } from '../../run-store.js';

interface Opts {
  run?: string | undefined;
  dryRun: boolean;
  json: boolean;
}

function planLines(plan: StoreResumePlan, dry: boolean, io: CommandIO): string[] {
  const bold = (t: string): string => paint('bold', t, io.stdout);
  return [
    `${dry ? 'Resume would' : 'Took over'} run ${bold(plan.run)} (phase ${plan.phase}):`,
    ...plan.items.map(
      (i) =>
        `  ${i.task.padEnd(24)} ${i.status.padEnd(15)} ${bold(i.action.padEnd(8))} ${terminalSafeLine(i.detail)}`,
    ),
  ];
}

export async function resumeFromStore(url: string, opts: Opts, io: CommandIO): Promise<CommandResult> {
  return withStoreRun(url, opts.run, io, async (sr) => {
    const d = await import('@orch/distributed');
    const live = await sr.supervisor();
    if (live) {
      throw new OrchError(
        'ERR_ORCH_SUPERVISOR_LEASE',
        `run ${sr.run} is supervised by ${live.holder} (its lease has ${live.msLeft} ms left)`,
        {
          hint: 'One supervisor per run: watch it with `orch dashboard --store …`, or resume once its lease has expired.',
          details: { run: sr.run, holder: live.holder, leaseMsLeft: live.msLeft },
        },
      );
    }
    if (opts.dryRun) {
      const state = sr.state();
      const plan = d.reconcileWithStore(state, await d.attemptFacts(sr.redis, sr.keys, state));
      if (opts.json) return { exitCode: ExitCode.Ok, json: { ...plan, dryRun: true } };
      return { exitCode: ExitCode.Ok, lines: planLines(plan, true, io) };
    }
    if (sr.state().outcome === 'succeeded') {
      const done = `Run ${sr.run} has finished (succeeded); there is nothing to resume.`;
      return opts.json
        ? { exitCode: ExitCode.Ok, json: { run: sr.run, finished: true, action: 'none' } }
        : { exitCode: ExitCode.Ok, lines: [done] };
    }
    const holder = `${hostname()}:${process.pid}`;
    const taken = await d.takeOverRun(sr.redis, sr.keys, sr.run, { key: requireRunKey(sr), holder });
    try {
      // The supervisor loop of a distributed run (its remote repository and BullMQ workers behind
      // the engine's ports) continues from here once the distributed run context exists; until
      // then the run is left taken over and reconciled, its lease released for the next resume.
      const note = `The supervisor of a distributed run cannot continue on this machine yet: run ${sr.run} stays stopped (its lease is released).`;
      if (opts.json)
        return {
          exitCode: ExitCode.NotFinished,
          notes: [note],
          json: { ...taken.plan, takenOver: true, holder, continued: false },
        };
      return {
        exitCode: ExitCode.NotFinished,
        notes: [note],
        lines: planLines(taken.plan, false, io),
      };
    } finally {
      await taken.lease.release();
    }
  });
}
