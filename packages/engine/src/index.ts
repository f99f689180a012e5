export * from './assets.js';
export * from './debug-log.js';
export * from './run/context.js';
export * from './run/journal.js';
export * from './run/start.js';
export * from './run/supervise.js';
export * from './run/abort.js';
export * from './run/clean.js';
export * from './run/resume.js';
export * from './supervisor/supervisor.js';
export * from './supervisor/finish.js';
export * from './supervisor/intake.js';
export * from './worker/exec.js';
export * from './worker/spawn-agent.js';
export * from './worker/prompt.js';
export * from './worker/sandbox.js';
export * from './worker/sandbox-args.js';
export * from './worker/attempt-files.js';
export * from './integrate/detect.js';
export * from './verify/index.js';
export * from './deps.js';
export * from './review/index.js';
export * from './ports/index.js';
export * from './run/plan-store.js';
export * from './init.js';
export * from './supervisor/notify.js';
export * from './doctor/checks.js';
export * from './run/detach.js';
export * from './task-report/rules.js';
export * from './planner/loop.js';
export * from './planner/repo-summary.js';
export * from './repo-files.js';
export * from './report/load-run.js';
export * from './report/submit.js';
export {
  appendLog,
  bootstrapWorktree,
  readWorktreeInclude,
  type BootstrapResult,
} from './worker/bootstrap.js';
export { cloneDir, readMarker } from './worker/install.js';
