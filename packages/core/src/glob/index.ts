export * from './paths.js';
export * from './glob.js';
