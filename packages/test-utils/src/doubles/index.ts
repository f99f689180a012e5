export * from './clock.js';
export * from './run-log.js';
export * from './workers.js';
export * from './repository.js';
export * from './workspaces.js';
export * from './user-checkout.js';
