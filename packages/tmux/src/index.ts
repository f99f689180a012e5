export * from './names.js';
export * from './server.js';
export * from './version.js';
export { isNoServer, isNotFound, TMUX_INSTALL_HINT, DEFAULT_TMUX_TIMEOUT_MS } from './exec.js';
export { renderConfig, defaultTerminal, CONFIG_FILE_NAME } from './config.js';
export { escapeArg } from './args.js';
