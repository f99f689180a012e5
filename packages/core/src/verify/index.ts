export * from './report.js';
export * from './forbidden.js';
export * from './boundaries.js';
export * from './symlinks.js';
export * from './placeholders.js';
export * from './zero-tests.js';
export * from './contracts.js';
