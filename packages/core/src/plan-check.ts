/**
 * What `orch plan check` needs and nothing else (no run events, engine schemas or mailbox), so
 * the command loads a fraction of core: the plan loader, the config loader and the analyzers.
 */
export { checkPlan, type PlanCheckReport } from './analyze/check.js';
export { findPlanFile, loadPlan } from './plan/load.js';
export { loadConfigSource } from './config/load.js';
export { isOrchError } from './errors.js';
