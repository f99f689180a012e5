export * from './paths.js';
export * from './glob.js';
export * from './path-patterns.js';
