export type { RunLog } from './run-log.js';
export type { WorkerRuntime, WorkerSpec, WorkerRef, WorkerStatus, AttemptInputs } from './worker-runtime.js';
export type { Workspaces, WorkspaceRequest, WorkspaceGitDirs } from './workspaces.js';
export type { UserCheckout } from './user-checkout.js';
export type { Repository } from './repository.js';
export { systemClock, sleepOn, isoAt, type Clock } from './clock.js';
export { gitRepository, gitUserCheckout } from './git.js';
export type { SupervisorSession } from './supervisor-session.js';
export { tmuxSupervisorSession, tmuxWorkers } from './tmux.js';
