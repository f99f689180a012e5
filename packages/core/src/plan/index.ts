export * from './source.js';
export * from './validate.js';
export * from './load.js';
export * from './reserved.js';
