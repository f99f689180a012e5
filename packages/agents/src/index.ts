export * from './types.js';
export * from './registry.js';
export * from './context-window.js';
export { renderEvent, summarizeToolInput } from './summary.js';
export { isRateLimitText, resetTimeFrom } from './rate-limit.js';
export { LineSplitter } from './lines.js';
export {
  claudeAdapter,
  buildClaudeCommand,
  createClaudeParser,
  orchMcpConfig,
  ORCH_MCP_TOOLS,
} from './claude.js';
export { codexAdapter, buildCodexCommand, createCodexParser } from './codex.js';
export { geminiAdapter, buildGeminiCommand, createGeminiParser } from './gemini.js';
export { aiderAdapter, buildAiderCommand, createAiderParser } from './aider.js';
export { commandAdapter, buildCustomCommand } from './command.js';
export { shellAdapter, buildShellCommand } from './shell.js';
export { createPlainParser } from './plain.js';
