import { describe, expect, it } from 'vitest';
import { agentEnv, isAgentEnvName } from '../src/env/agent-env.js';

describe('agentEnv', () => {
  const calling = {
    PATH: '/usr/bin',
    HOME: '/home/u',
    LANG: 'C.UTF-8',
    LC_ALL: 'C',
    TERM: 'xterm',
    ANTHROPIC_API_KEY: 'sk-1',
    ANTHROPIC_BASE_URL: 'http://stub',
    OPENAI_API_KEY: 'sk-2',
    CLAUDE_CONFIG_DIR: '/cfg',
    IS_SANDBOX: '1',
    HTTPS_PROXY: 'http://proxy:3128',
    no_proxy: 'localhost',
    // A calling Claude Code session's identity and channels.
    CLAUDECODE: '1',
    CLAUDE_CODE_SESSION_ID: 'parent',
    CLAUDE_CODE_CHILD_SESSION: '1',
    CLAUDE_CODE_MESSAGING_SOCKET: '/tmp/cc-socks/0.sock',
    CLAUDE_SESSION_TOKEN: 'tok',
    // The user's tmux, orch variables of an outer worker, and anything else.
    TMUX: '/tmp/tmux-0/default,1,0',
    TMUX_PANE: '%1',
    ORCH_TASK: 'outer',
    ORCH_TASK_TOKEN: 'outer-secret',
    AWS_SECRET_ACCESS_KEY: 'aws',
    GITHUB_TOKEN: 'gh',
    NODE_OPTIONS: '--require /tmp/x.js',
  };

  it('keeps the allow-list and drops everything else', () => {
    expect(agentEnv(calling)).toEqual({
      PATH: '/usr/bin',
      HOME: '/home/u',
      LANG: 'C.UTF-8',
      LC_ALL: 'C',
      TERM: 'xterm',
      ANTHROPIC_API_KEY: 'sk-1',
      ANTHROPIC_BASE_URL: 'http://stub',
      OPENAI_API_KEY: 'sk-2',
      CLAUDE_CONFIG_DIR: '/cfg',
      IS_SANDBOX: '1',
      HTTPS_PROXY: 'http://proxy:3128',
      no_proxy: 'localhost',
    });
  });

  it('adds the names of workers.env_passthrough, but never a session identity, tmux or a token', () => {
    const extra = [
      'AWS_SECRET_ACCESS_KEY',
      'CLAUDE_CODE_SESSION_ID',
      'CLAUDECODE',
      'TMUX',
      'ORCH_TASK_TOKEN',
    ];
    const env = agentEnv(calling, extra);
    expect(env.AWS_SECRET_ACCESS_KEY).toBe('aws');
    for (const k of ['CLAUDE_CODE_SESSION_ID', 'CLAUDECODE', 'TMUX', 'ORCH_TASK_TOKEN', 'GITHUB_TOKEN'])
      expect(env[k]).toBeUndefined();
    expect(isAgentEnvName('CLAUDE_CODE_MESSAGING_SOCKET', ['CLAUDE_CODE_MESSAGING_SOCKET'])).toBe(false);
    expect(isAgentEnvName('bad-name', ['bad-name'])).toBe(false);
  });
});
