export * from './render.js';
export * from './check.js';
