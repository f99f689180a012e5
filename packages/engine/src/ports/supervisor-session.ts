/**
 * The session a detached run's supervisor runs in, on this machine's tmux server (never a worker's,
 * which are the `WorkerRuntime`'s and may be elsewhere). Bound to one run.
 */
export interface SupervisorSession {
  /** The session's name (shown in a resume plan). */
  readonly name: string;
  /** Whether it is there, and whether its pane's program ended (a pane kept after exit). */
  state(): Promise<{ exists: boolean; dead: boolean }>;
  /** Removes it; nothing when it is gone. */
  remove(): Promise<void>;
  /** Its pane goes when the supervisor exits, instead of staying (and keeping orch's tmux server up). */
  closeOnExit(): Promise<void>;
}
