/** The plan file `orch run` and `orch plan check` read when none is named. */
export const DEFAULT_PLAN_FILE = 'tasks.yaml';
