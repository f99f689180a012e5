export * from './connection.js';
export * from './keys.js';
export * from './lease.js';
export * from './run-log.js';
export * from './mailbox.js';
export * from './context.js';
