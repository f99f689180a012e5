export * from './dag.js';
export * from './conflicts.js';
export * from './risk.js';
export * from './check.js';
