/**
 * `orch state resume --store`: a distributed run whose supervisor died, from any machine. The lease
 * is taken over once it expired (refused, naming the holder, while it is live), the dead supervisor
 * is journaled as stopped, and the run's supervisor continues here on the store's ports (its
 * journal in Redis under the new lease, attempts as BullMQ jobs, code through the remote), after
 * the same reconciliation as a local resume: in the run's own checkout when this is it, otherwise
 * in a work directory of its own (a clone of the remote, the run's files rebuilt from the store).
 * `--dry-run` shows the store's plan and takes nothing.
 */
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import {
  ExitCode,
  OrchError,
  loadConfig,
  loadPlan,
  terminalSafeLine,
  type RunEvent,
  type RunState,
} from '@orch/core';
import type { ResumeSite, StoreResumePlan } from '@orch/distributed';
import type { CommandIO, CommandResult } from '../../define.js';
import { paint } from '../../output.js';
import { requireRunKey, withStoreRun, type StoreRun } from '../../run-store.js';
import { describeEvent } from '../run/progress.js';
import { finishResult, outliveTerminal } from '../run/runner.js';

interface Opts {
  run?: string | undefined;
  remote?: string | undefined;
  workdir?: string | undefined;
  dryRun: boolean;
  detach: boolean;
  json: boolean;
  /** This process is the run's detached supervisor (`orch _supervise --resume --store`). */
  inSession?: boolean;
}

function planLines(plan: StoreResumePlan, mode: 'dry' | 'detach', io: CommandIO): string[] {
  const bold = (t: string): string => paint('bold', t, io.stdout);
  return [
    `${mode === 'dry' ? 'Resume would' : 'Resuming'} run ${bold(plan.run)} (phase ${plan.phase}):`,
    ...plan.items.map(
      (i) =>
        `  ${i.task.padEnd(24)} ${i.status.padEnd(15)} ${bold(i.action.padEnd(8))} ${terminalSafeLine(i.detail)}`,
    ),
  ];
}

type Started = Extract<RunEvent, { type: 'run.started' }>;

/** The repository the command runs in and its config's `store.remote`, when it is in one. */
async function checkoutHere(io: CommandIO): Promise<{ root?: string; remote?: string }> {
  const { resolveRepoRoot } = await import('@orch/store');
  const root = await resolveRepoRoot({ cwd: io.cwd, env: io.env }).catch(() => undefined);
  if (!root) return {};
  const config = await loadConfig(root).catch(() => undefined);
  return { root, ...(config?.store.remote ? { remote: config.store.remote } : {}) };
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
      return { exitCode: ExitCode.Ok, lines: planLines(plan, 'dry', io) };
    }
    if (sr.state().outcome === 'succeeded') {
      const done = `Run ${sr.run} has finished (succeeded); there is nothing to resume.`;
      return opts.json
        ? { exitCode: ExitCode.Ok, json: { run: sr.run, finished: true, action: 'none' } }
        : { exitCode: ExitCode.Ok, lines: [done] };
    }
    if (sr.state().outcome === 'aborted') {
      throw new OrchError('ERR_ORCH_RUN_ABORTED', `Run ${sr.run} was aborted; it has nothing to resume.`, {
        hint: 'Start the plan again with `orch run … --store …`.',
      });
    }
    // As locally: a run started in the background is resumed in the background.
    if (!opts.inSession && (opts.detach || sr.state().detached)) return detachFromStore(url, sr, opts, io);
    return continueFromStore(sr, opts, io);
  });
}

/** Everything checked and read before anything is taken or made: the site, the key, the run's files. */
async function prepareSite(sr: StoreRun, opts: Opts, io: CommandIO) {
  const d = await import('@orch/distributed');
  const { runPaths } = await import('@orch/store');
  const key = requireRunKey(sr);
  const started = (await sr.log.history()).find((e): e is Started => e.type === 'run.started');
  const here = await checkoutHere(io);
  const withRun = here.root && existsSync(runPaths(here.root, sr.run).plan) ? here.root : undefined;
  const remoteGiven = opts.remote ?? here.remote;
  const site: ResumeSite = d.chooseResumeSite({
    run: sr.run,
    ...(withRun ? { checkoutWithRun: withRun } : {}),
    ...(opts.workdir !== undefined ? { workdir: resolve(io.cwd, opts.workdir) } : {}),
    // In the run's own checkout the remote it started with is the default.
    ...(remoteGiven !== undefined
      ? { remote: remoteGiven }
      : withRun && started?.remote
        ? { remote: started.remote }
        : {}),
  });
  const remote = site.kind === 'workdir' ? site.remote : (remoteGiven ?? started?.remote);
  if (remote === undefined) {
    throw new OrchError('ERR_ORCH_USAGE', `run ${sr.run} does not say which git remote it uses`, {
      hint: 'Give it: --remote GIT_URL (or store.remote in the config).',
      exitCode: ExitCode.Usage,
    });
  }
  const rebuilt =
    site.kind === 'workdir'
      ? d.rebuildRunFiles(sr.run, { planText: await sr.plan(), started, key })
      : undefined;
  return { site, remote, key, rebuilt, base: started?.base ?? sr.state().base };
}

/** The checkout the supervisor continues in: the run's own, or its clone in --workdir made ready. */
async function siteRoot(sr: StoreRun, prep: Awaited<ReturnType<typeof prepareSite>>) {
  if (prep.site.kind !== 'workdir') return { repoRoot: prep.site.repoRoot, config: undefined };
  const d = await import('@orch/distributed');
  const repoRoot = await d.ensureWorkdirClone(prep.site.dir, prep.remote);
  const rebuilt = prep.rebuilt as NonNullable<typeof prep.rebuilt>;
  await d.writeRunFiles(repoRoot, sr.run, rebuilt);
  return { repoRoot, config: rebuilt.config };
}

/**
 * `orch state resume --detach --store`: the supervisor continues in a session of orch's tmux
 * server of the checkout it continues in (a takeover there, as in the foreground), its lines in
 * the run's supervisor.log; the store's password reaches it in a file, never on a command line.
 */
async function detachFromStore(url: string, sr: StoreRun, opts: Opts, io: CommandIO): Promise<CommandResult> {
  const d = await import('@orch/distributed');
  const engine = await import('@orch/engine');
  const { storeHandover } = await import('../run/distributed.js');
  const prep = await prepareSite(sr, opts, io);
  const { repoRoot } = await siteRoot(sr, prep);
  const state = sr.state();
  const plan = d.reconcileWithStore(state, await d.attemptFacts(sr.redis, sr.keys, state));
  const handover = await storeHandover(io.env, io.cwd);
  // A tmux server started now must not inherit the password (the supervisor gets it in a file).
  delete process.env.ORCH_REDIS_PASSWORD;
  const { session } = await engine.startDetachedSupervisor({
    repoRoot,
    run: sr.run,
    orchBin: engine.orchBinPath(),
    resume: true,
    store: {
      url,
      remote: prep.remote,
      ...(prep.site.kind === 'workdir' ? { workdir: prep.site.dir } : {}),
      ...handover,
    },
  });
  if (opts.json)
    return { exitCode: ExitCode.Ok, json: { ...plan, detached: true, session, store: url, repoRoot } };
  return {
    exitCode: ExitCode.Ok,
    lines: [
      ...planLines(plan, 'detach', io),
      `The supervisor continues in the background${prep.site.kind === 'workdir' ? ` in ${repoRoot}` : ''}; watch it with \`orch dashboard --store ${url}\`, wait for it with \`orch wait --store ${url}\`.`,
    ],
  };
}

async function continueFromStore(sr: StoreRun, opts: Opts, io: CommandIO): Promise<CommandResult> {
  const d = await import('@orch/distributed');
  const engine = await import('@orch/engine');
  const { runPaths } = await import('@orch/store');
  const prep = await prepareSite(sr, opts, io);
  const { repoRoot, config } = await siteRoot(sr, prep);
  const away = prep.site.kind === 'workdir';
  const holder = `${hostname()}:${process.pid}`;
  // A lease lost later refuses every append of this supervisor: it stops at the next one.
  const taken = await d.takeOverRun(sr.redis, sr.keys, sr.run, { key: prep.key, holder });
  const dist = await d.DistributedRun.connect({ store: sr.store, remote: prep.remote, repoRoot }).catch(
    async (e: unknown) => {
      await taken.lease.release();
      throw e;
    },
  );
  dist.adopt(taken, prep.key);
  try {
    const state = taken.log.state as RunState;
    const remoteOpts = { repoRoot, url: prep.remote, run: sr.run };
    // The remote is the truth for staging (and, away from the user's checkout, for the base).
    await d.syncRunBranches(remoteOpts, state.order, away ? { base: prep.base } : {});
    const { plan } = await loadPlan(runPaths(repoRoot, sr.run).plan);
    const ctxConfig = config ?? (await loadConfig(repoRoot));
    const ports = await dist.ports(sr.run, plan, ctxConfig, away ? { promoteBase: prep.base } : {});
    const orchBin = engine.orchBinPath();
    const ctx = await engine.openRunContext(repoRoot, sr.run, orchBin, ports, config ? { config } : {});
    if (away) await engine.adoptTaskWorktrees(ctx);
    await dist.pullChannels();
    const launched = await d.launchedInStore(sr.redis, sr.keys, ctx.journal.state as RunState);
    const { plan: resumePlan } = await engine.planResume(repoRoot, sr.run, orchBin, {
      takeReports: true,
      ctx,
      launched,
    });
    const restarts = await engine.applyRepairs(ctx, resumePlan);
    const println = (line: string): void => void io.stdout.write(`${line}\n`);
    if (!opts.json) {
      println(
        `Took over run ${paint('bold', sr.run, io.stdout)} (phase ${resumePlan.phase}) ${away ? `in ${repoRoot}` : 'in its checkout'}:`,
      );
      for (const r of resumePlan.repairs) println(`  repair: ${terminalSafeLine(r.what)}`);
      for (const i of resumePlan.items)
        println(
          `  ${i.task.padEnd(24)} ${i.status.padEnd(15)} ${paint('bold', i.action.padEnd(8), io.stdout)} ${terminalSafeLine(i.detail)}`,
        );
    }
    const final = resumePlan.finished
      ? (ctx.journal.state as RunState)
      : await engine.superviseRun(repoRoot, sr.run, orchBin, {
          ctx,
          restarts,
          // The detached one has no terminal of its own to outlive (see superviseFromStore).
          ...(opts.inSession ? {} : { onHangup: outliveTerminal(repoRoot, sr.run) }),
          ...(opts.json
            ? {}
            : {
                onEvent: (ev: RunEvent, s: RunState) => {
                  const line = describeEvent(ev, s);
                  if (line) println(line);
                },
              }),
        });
    const result = finishResult(final, opts.json === true, io.stdout, sr.url);
    const to = final.promotion?.ok === true ? final.promotion.to : undefined;
    if (!away || !to) return result;
    const pull = `The remote's ${final.base} is now at ${to.slice(0, 12)}: pull it in your checkout (git pull).`;
    return { ...result, notes: [...(result.notes ?? []), pull] };
  } finally {
    await dist.close();
  }
}
