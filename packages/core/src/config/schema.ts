/**
 * orch's configuration, read from `orch.yaml` (or `.orch/config.yaml`) at the repository root, or
 * from the seed's `.claude-agents.yaml` with its `risk:` (or `approval:`) section. Every key has a
 * default, so an absent file means the defaults.
 */
import { z } from 'zod';
import { parseHostIdentity } from './host-identity.js';

export const SensitivePattern = z.union([
  z.string(),
  z.strictObject({ pattern: z.string(), weight: z.number().default(10) }),
]);

export const RiskConfig = z.looseObject({
  sensitive_patterns: z.array(SensitivePattern).optional(),
  auto_approve_threshold: z.number().int().nonnegative().optional(),
});

export const Config = z.looseObject({
  risk: RiskConfig.optional(),
  /** The seed's documents spell the risk section `approval:`; both are read. */
  approval: RiskConfig.optional(),
  orchestration: z
    .looseObject({
      max_parallel_workers: z.number().int().positive().default(5),
      /**
       * Verifications at once, beside the workers (a verifying task holds no worker slot). Unset:
       * the cores of the machine the supervisor runs on, so no default is written here.
       */
      verify_lanes: z.number().int().positive().optional(),
      max_retries: z.number().int().nonnegative().default(2),
      max_iterations: z.number().int().positive().default(3),
      worktree_dir: z.string().default('.worktrees'),
      /** Seconds a task may run before its worker is stopped. */
      task_timeout: z.number().int().positive().default(1800),
      /** Seconds without any output before a worker counts as stuck. */
      idle_timeout: z.number().int().positive().default(600),
      /** Seconds a task waits after a rate or usage limit that names no reset time. */
      rate_limit_wait: z.number().int().positive().default(60),
      base_port: z.number().int().positive().default(20000),
      ports_per_task: z.number().int().positive().default(10),
    })
    .prefault({}),
  agents: z
    .looseObject({
      default: z.string().default('claude'),
      model: z.string().optional(),
      /** claude: permission mode passed with --permission-mode. */
      permission_mode: z.string().default('acceptEdits'),
      allowed_tools: z
        .array(z.string())
        .default(['Read', 'Write', 'Edit', 'MultiEdit', 'Glob', 'Grep', 'LS', 'Bash']),
      extra_args: z.record(z.string(), z.array(z.string())).default({}),
      /** `command` agent: argv template with {prompt_file}, {task}, {worktree}. */
      command: z.array(z.string()).optional(),
    })
    .prefault({}),
  workers: z
    .looseObject({
      /**
       * The OS sandbox (bubblewrap) around every worker's agent: `auto` uses it where it works,
       * `on` refuses to run without it, `off` never uses it.
       */
      sandbox: z.enum(['auto', 'on', 'off']).default('auto'),
      /** More environment variables agents may inherit, beyond orch's allow-list. */
      env_passthrough: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/)).default([]),
    })
    .prefault({}),
  worktree: z
    .looseObject({
      copy: z.array(z.string()).default([]),
      symlink: z.array(z.string()).default([]),
      setup: z.array(z.string()).default([]),
      /**
       * Dependencies of each new worktree: `auto` (a copy of the checkout's node_modules when the
       * lockfiles match, else an install from the lockfile; a Python environment of its own),
       * `install` (always from the lockfile), `off`, or a shell command run instead.
       */
      install: z.string().trim().min(1).default('auto'),
    })
    .prefault({}),
  verification: z
    .looseObject({
      timeout: z.number().int().positive().default(300),
      forbidden_patterns: z.array(z.string()).optional(),
      extra_forbidden_patterns: z.array(z.string()).default([]),
      /** Run after every merge on the new staging tip; default: the detected test command. */
      integration_command: z.string().optional(),
      typecheck_command: z.string().optional(),
      lint_command: z.string().optional(),
      audit: z.boolean().default(true),
      audit_blocking_levels: z.array(z.string()).default(['high', 'critical']),
      /** Symlinks in a task's diff are refused unless on; even then they must point inside the repository. */
      allow_symlinks: z.boolean().default(false),
    })
    .prefault({}),
  merge: z
    .looseObject({
      /**
       * squash: one commit per task on staging (base + the verified net diff); merge: a merge commit
       * that keeps the worker's commits, every one of them checked.
       */
      strategy: z.enum(['squash', 'merge']).default('squash'),
    })
    .prefault({}),
  review: z
    .looseObject({
      /** Default: on when the agent is claude. */
      enabled: z.boolean().optional(),
    })
    .prefault({}),
  promotion: z
    .looseObject({
      enabled: z.boolean().default(true),
    })
    .prefault({}),
  /** Telling a person when a run needs them (a decision, a dependency request, an escalation) or finishes. */
  notify: z
    .looseObject({
      /**
       * Run for each such event, with the event as JSON on stdin: an argument array, or a string
       * run by your shell as written (the event's data is never put on its command line).
       */
      command: z.union([z.string().trim().min(1), z.array(z.string()).min(1)]).optional(),
      /** A desktop notification (notify-send, osascript) where one is available. */
      desktop: z.boolean().default(true),
      /** A terminal bell in the dashboard. */
      bell: z.boolean().default(true),
    })
    .prefault({}),
  /**
   * A distributed run (docs/scale-out.md): the Redis store (`redis://HOST:PORT/DB`, the same as
   * `--store`; its password only from ORCH_REDIS_PASSWORD or ORCH_REDIS_PASSWORD_FILE) and the git
   * remote every host fetches from and pushes to (`--remote`). Both unset: a local run.
   */
  store: z
    .looseObject({
      url: z.string().trim().min(1).optional(),
      remote: z.string().trim().min(1).optional(),
      /**
       * The worker hosts this run trusts: host name → its public identity, the line `orch host
       * --identity` prints on that host. Only these hosts get an attempt's secret, and only what
       * they sign is taken from the store. A distributed run needs at least one.
       */
      trusted_hosts: z
        .record(z.string(), z.string())
        .default({})
        .superRefine((hosts, ctx) => {
          for (const [name, line] of Object.entries(hosts)) {
            const p = parseHostIdentity(line);
            if (!p.ok) {
              ctx.addIssue({
                code: 'custom',
                path: [name],
                message: `not a host identity: ${p.reason} (paste the line \`orch host --identity\` prints)`,
              });
            } else if (p.identity.name !== name) {
              ctx.addIssue({
                code: 'custom',
                path: [name],
                message: `the identity is of host "${p.identity.name}", not "${name}"`,
              });
            }
          }
        }),
    })
    .prefault({}),
});
export type Config = z.infer<typeof Config>;
export type ConfigInput = z.input<typeof Config>;

/** Looked for at the repository root in this order; the first that exists is the config. */
export const CONFIG_FILES = [
  'orch.yaml',
  '.orch/config.yaml',
  '.claude-agents.yaml',
  '.claude-agents.yml',
] as const;
