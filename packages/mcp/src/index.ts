export * from './server.js';
export * from './attention.js';
export { WAIT_MAX_SEC } from './orchestrator-tools.js';
