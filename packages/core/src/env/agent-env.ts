/**
 * The environment an agent orch starts (worker, reviewer, planner) may inherit: an allow-list.
 * orch is often started from inside another agent session (Claude Code sets its session id, a
 * child-session flag and a messaging socket): none of that may reach a worker, or the worker could
 * speak as, or write into, the parent session. Everything else an agent needs must be named here or
 * in `workers.env_passthrough`.
 */

/** Names forwarded as they are. */
const ALLOWED = new Set([
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'LANG',
  'TERM',
  'SHELL',
  'TZ',
  // Credentials and endpoints of the agent CLIs.
  'ANTHROPIC_API_KEY',
  'ANTHROPIC_AUTH_TOKEN',
  'ANTHROPIC_BASE_URL',
  'ANTHROPIC_MODEL',
  'CLAUDE_CODE_OAUTH_TOKEN',
  'OPENAI_API_KEY',
  'OPENAI_BASE_URL',
  'GEMINI_API_KEY',
  'GOOGLE_API_KEY',
  // Where the agent CLIs keep their configuration, and their non-identity settings.
  'CLAUDE_CONFIG_DIR',
  'CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC',
  'CLAUDE_CODE_MAX_RETRIES',
  'CLAUDE_CODE_USE_BEDROCK',
  'CLAUDE_CODE_USE_VERTEX',
  'CODEX_HOME',
  'IS_SANDBOX',
  'ORCH_DEBUG',
  // Proxies and the certificates a proxy needs.
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'ALL_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'all_proxy',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'NODE_EXTRA_CA_CERTS',
  'REQUESTS_CA_BUNDLE',
  'CURL_CA_BUNDLE',
]);

/**
 * Prefixes forwarded: locale settings. (orch's own `ORCH_*` variables are not inherited: orch sets
 * them for each task after this filter.)
 */
const ALLOWED_PREFIX = /^LC_/;

/**
 * Never forwarded, not even when named in `workers.env_passthrough`: the identity and channels of a
 * calling agent session, and the user's tmux (a worker must not reach the user's terminal).
 */
const NEVER = new Set([
  'CLAUDECODE',
  'CLAUDE_CODE_SESSION_ID',
  'CLAUDE_CODE_CHILD_SESSION',
  'CLAUDE_CODE_ENTRYPOINT',
  'CLAUDE_CODE_SSE_PORT',
  'TMUX',
  'TMUX_PANE',
  // A worker's secret is set by orch for that worker only, never inherited.
  'ORCH_TASK_TOKEN',
]);
const NEVER_PATTERN = /^CLAUDE_.*(SESSION|SOCKET|MESSAG)/;

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Whether `name` can be passed on to an agent (`extra`: the user's `workers.env_passthrough`). */
export function isAgentEnvName(name: string, extra: readonly string[] = []): boolean {
  if (!NAME_RE.test(name) || NEVER.has(name) || NEVER_PATTERN.test(name)) return false;
  return ALLOWED.has(name) || ALLOWED_PREFIX.test(name) || extra.includes(name);
}

/** The allowed part of `source`. */
export function agentEnv(
  source: Readonly<Record<string, string | undefined>>,
  extra: readonly string[] = [],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(source)) if (v !== undefined && isAgentEnvName(k, extra)) out[k] = v;
  return out;
}
