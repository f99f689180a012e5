/** Parsers of the CLIs that cannot run here, against transcripts written from their documented formats. */
import { describe, expect, it } from 'vitest';
import { getAdapter, renderEvent, type AgentEvent } from '../src/index.js';

const lines = (...objs: unknown[]): string =>
  objs.map((o) => (typeof o === 'string' ? o : JSON.stringify(o))).join('\n') + '\n';
const parse = (name: string, text: string): AgentEvent[] => {
  const p = getAdapter(name).createParser();
  return [...p.push(text), ...p.end()];
};

describe('codex exec --json', () => {
  it('reads messages, commands, file changes and usage; a clean end is success', () => {
    const ev = parse(
      'codex',
      lines(
        { type: 'thread.started', thread_id: 'th_1' },
        { type: 'turn.started' },
        {
          type: 'item.completed',
          item: { id: 'i0', type: 'command_execution', command: 'npm test', exit_code: 0 },
        },
        {
          type: 'item.completed',
          item: { id: 'i1', type: 'file_change', changes: [{ path: 'src/a.ts', kind: 'add' }] },
        },
        { type: 'item.completed', item: { id: 'i2', type: 'agent_message', text: 'Done.' } },
        { type: 'turn.completed', usage: { input_tokens: 900, cached_input_tokens: 100, output_tokens: 50 } },
      ),
    );
    expect(ev).toEqual([
      { type: 'started', sessionId: 'th_1' },
      { type: 'tool', name: 'shell', summary: 'npm test' },
      { type: 'tool', name: 'edit', summary: 'src/a.ts' },
      { type: 'text', text: 'Done.' },
      {
        type: 'usage',
        usage: {
          inputTokens: 900,
          outputTokens: 50,
          cacheReadTokens: 100,
          contextTokens: 900,
          contextWindow: 400_000,
        },
      },
      {
        type: 'result',
        ok: true,
        turns: 1,
        summary: 'Done.',
        usage: { inputTokens: 900, outputTokens: 50, cacheReadTokens: 100 },
      },
    ]);
  });

  it('fails a failed turn and spots a rate limit', () => {
    const ev = parse(
      'codex',
      lines(
        { type: 'thread.started', thread_id: 't' },
        { type: 'turn.failed', error: { message: '429 Too Many Requests' } },
      ),
    );
    expect(ev.map((e) => e.type)).toEqual(['started', 'rate_limit', 'result']);
    expect(ev.at(-1)).toMatchObject({ ok: false });
  });
});

describe('gemini stream-json', () => {
  it('joins message deltas and reads tools and the result stats', () => {
    const ev = parse(
      'gemini',
      lines(
        'Loaded cached credentials.',
        { type: 'init', session_id: 'g1', model: 'gemini-2.5-pro' },
        { type: 'message', role: 'user', content: 'task' },
        { type: 'message', role: 'assistant', content: 'Writing ', delta: true },
        { type: 'message', role: 'assistant', content: 'the file.', delta: true },
        {
          type: 'tool_use',
          tool_name: 'write_file',
          tool_id: 't1',
          parameters: { file_path: 'a.txt', content: 'x' },
        },
        { type: 'tool_result', tool_id: 't1', status: 'success' },
        {
          type: 'result',
          status: 'success',
          stats: { input_tokens: 300, output_tokens: 20, duration_ms: 1500 },
        },
      ),
    );
    expect(ev).toEqual([
      { type: 'text', text: 'Loaded cached credentials.' },
      { type: 'started', sessionId: 'g1', model: 'gemini-2.5-pro' },
      { type: 'text', text: 'Writing the file.' },
      { type: 'tool', name: 'write_file', summary: 'a.txt' },
      {
        type: 'usage',
        usage: { inputTokens: 300, outputTokens: 20, cacheReadTokens: 0, contextWindow: 1_048_576 },
      },
      {
        type: 'result',
        ok: true,
        durationMs: 1500,
        usage: { inputTokens: 300, outputTokens: 20, cacheReadTokens: 0, contextWindow: 1_048_576 },
      },
    ]);
  });

  it('reports quota errors as rate limits and an error status as failure', () => {
    const ev = parse(
      'gemini',
      lines(
        {
          type: 'error',
          severity: 'error',
          message: 'Quota exceeded for quota metric; resets at 2030-01-01T15:00:00Z',
        },
        { type: 'result', status: 'error', error: { message: 'quota' }, stats: {} },
      ),
    );
    expect(ev[0]).toEqual({
      type: 'rate_limit',
      message: 'Quota exceeded for quota metric; resets at 2030-01-01T15:00:00Z',
      resetAt: '2030-01-01T15:00:00.000Z',
    });
    expect(ev.at(-1)).toMatchObject({ type: 'result', ok: false, summary: 'quota' });
  });
});

describe('aider', () => {
  it('passes lines through, strips colours, and sums the token report', () => {
    const ev = parse(
      'aider',
      '\u001b[32mApplied edit to src/a.py\u001b[0m\r\n' +
        'Tokens: 2.1k sent, 150 received. Cost: $0.01 message, $0.01 session.\n' +
        'Tokens: 3k sent, 1.2k cache hit, 50 received. Cost: $0.02 message, $0.03 session.\n',
    );
    expect(ev).toEqual([
      { type: 'text', text: 'Applied edit to src/a.py' },
      {
        type: 'usage',
        usage: {
          inputTokens: 2100,
          outputTokens: 150,
          cacheReadTokens: 0,
          cacheWriteTokens: 0,
          costUsd: 0.01,
        },
      },
      {
        type: 'usage',
        usage: {
          inputTokens: 5100,
          outputTokens: 200,
          cacheReadTokens: 1200,
          cacheWriteTokens: 0,
          costUsd: 0.03,
        },
      },
    ]);
  });
});

describe('pane rendering', () => {
  it('renders one readable line per event and skips usage updates', () => {
    expect(renderEvent({ type: 'tool', name: 'Bash', summary: 'npm test' })).toBe('⚙ Bash npm test');
    expect(renderEvent({ type: 'usage', usage: { inputTokens: 5 } })).toBeUndefined();
    expect(
      renderEvent({
        type: 'result',
        ok: false,
        turns: 2,
        durationMs: 1500,
        usage: { inputTokens: 12_000, outputTokens: 30, costUsd: 0.5 },
        summary: 'API Error',
      }),
    ).toBe('✖ failed · 2 turns · 1.5s · in 12k out 30 $0.5000: API Error');
    expect(
      renderEvent({ type: 'rate_limit', message: 'limit', resetAt: '2030-01-01T15:00:00.000Z' }),
    ).toContain('resets 2030');
  });
});
