export * from './errors.js';
export * from './plan/schema.js';
export * from './config/schema.js';
export * from './run/events.js';
export * from './run/state.js';
