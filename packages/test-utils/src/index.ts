export * from './git.js';
export * from './anthropic-stub.js';
export * from './tmux.js';
export * from './cli.js';
export * from './run.js';
export * from './doubles/index.js';
export * from './fixtures.js';
export * from './redis.js';
