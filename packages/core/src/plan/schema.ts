/**
 * The plan (`tasks.yaml`): compatible with the seed's format, plus orch's own fields.
 * Structure only; cross-field rules (unique ids, paths inside the repo, dependencies) live in
 * validate.ts so that every problem can be reported with its source position.
 */
import { z } from 'zod';

export const TASK_ID_RE = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export const VerificationType = z.enum(['test', 'lint', 'typecheck', 'build', 'check']);
export type VerificationType = z.infer<typeof VerificationType>;

export const Verification = z.strictObject({
  command: z.string(),
  type: VerificationType.default('check'),
  required: z.boolean().default(true),
  /** Seconds; default from config (300). */
  timeout: z.number().int().positive().optional(),
  description: z.string().optional(),
});
export type Verification = z.infer<typeof Verification>;

export const PatchIntent = z.looseObject({
  file: z.string(),
  action: z.string(),
  intent: z.record(z.string(), z.unknown()).default({}),
});
export type PatchIntent = z.infer<typeof PatchIntent>;

export const DepsRequired = z.looseObject({
  runtime: z.array(z.string()).default([]),
  dev: z.array(z.string()).default([]),
});
export type DepsRequired = z.infer<typeof DepsRequired>;

const paths = z.array(z.string()).default([]);

export const Task = z.strictObject({
  id: z.string(),
  description: z.string().default(''),
  files_write: paths,
  files_read: paths,
  files_append: paths,
  resources_write: paths,
  resources_read: paths,
  depends_on: z.array(z.string()).default([]),
  verification: z.array(Verification).default([]),
  context_keys: z.array(z.string()).default([]),
  contracts_used: z.array(z.string()).default([]),
  deps_required: DepsRequired.optional(),
  patch_intents: z.array(PatchIntent).default([]),
  allow_large_changes: z.boolean().default(false),
  /** orch: a task that changes nothing is merged as a no-op instead of failing. */
  allow_empty: z.boolean().default(false),
  /** orch: agent adapter for this task (claude, codex, gemini, aider, command, shell). */
  agent: z.string().optional(),
  model: z.string().optional(),
  /** orch: shell script run in the worktree by the built-in `shell` agent. */
  run: z.string().optional(),
  /** orch: seconds before the worker is stopped (default from config, 1800). */
  timeout: z.number().int().positive().optional(),
});
export type Task = z.infer<typeof Task>;

export const Contract = z.looseObject({
  name: z.string(),
  version: z.string(),
  file_path: z.string(),
  consumers: z.array(z.string()).default([]),
  methods: z.array(z.unknown()).optional(),
  created_at: z.string().optional(),
});
export type Contract = z.infer<typeof Contract>;

export const PlanDefaults = z.strictObject({
  agent: z.string().optional(),
  model: z.string().optional(),
  timeout: z.number().int().positive().optional(),
  verification_timeout: z.number().int().positive().optional(),
});

export const Plan = z.strictObject({
  request: z.string().default(''),
  created_at: z.union([z.string(), z.date()]).optional(),
  base: z.string().optional(),
  defaults: PlanDefaults.default({}),
  tasks: z.array(Task).min(1),
  contracts: z.array(Contract).default([]),
});
export type Plan = z.infer<typeof Plan>;
export type PlanInput = z.input<typeof Plan>;
