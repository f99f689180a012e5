import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createClaudeParser, type AgentEvent } from '../src/index.js';

const fixture = (name: string): string => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');

function parseAll(text: string, chunk = text.length): AgentEvent[] {
  const p = createClaudeParser();
  const out: AgentEvent[] = [];
  for (let i = 0; i < text.length; i += chunk) out.push(...p.push(text.slice(i, i + chunk)));
  return [...out, ...p.end()];
}

const line = (o: unknown): string => `${JSON.stringify(o)}\n`;
const init = line({ type: 'system', subtype: 'init', session_id: 's-1', model: 'claude-sonnet-4-5' });

describe('claude stream-json parser (recorded transcript of Claude Code 2.1.329)', () => {
  const events = parseAll(fixture('claude-stream.jsonl'));

  it('reads the session, the text, and the tool calls in order', () => {
    expect(events[0]).toEqual({
      type: 'started',
      sessionId: '00000000-0000-4000-8000-000000000001',
      model: 'claude-sonnet-4-5',
    });
    expect(events.filter((e) => e.type === 'text' || e.type === 'tool')).toEqual([
      { type: 'text', text: 'I will create the file.' },
      { type: 'tool', name: 'Write', summary: '/repo/src/greeting.txt' },
      { type: 'tool', name: 'Bash', summary: 'git add -A && git commit -q -m "Add greeting"' },
      { type: 'text', text: 'Created src/greeting.txt and committed it.' },
    ]);
  });

  it('accumulates usage per message and ends with the totals and cost of the result', () => {
    const usage = events.filter((e) => e.type === 'usage').map((e) => e.usage);
    // One update per assistant message (a message's blocks arrive as separate events).
    expect(usage.slice(0, 3).map((u) => [u.inputTokens, u.cacheReadTokens, u.contextTokens])).toEqual([
      [1200, 300, 1550],
      [2600, 800, 1900],
      [4100, 1400, 2100],
    ]);
    const result = events.at(-1);
    expect(result).toMatchObject({
      type: 'result',
      ok: true,
      turns: 3,
      summary: 'Created src/greeting.txt and committed it.',
      usage: {
        inputTokens: 4100,
        outputTokens: 82,
        cacheReadTokens: 1400,
        cacheWriteTokens: 50,
        contextTokens: 2100,
      },
    });
    expect(result?.type === 'result' && result.usage?.costUsd).toBeCloseTo(0.0141375, 8);
    expect(result?.type === 'result' && typeof result.durationMs).toBe('number');
  });

  it('gives the same events whatever the chunking', () => {
    const text = fixture('claude-stream.jsonl');
    expect(parseAll(text, 1)).toEqual(events);
    expect(parseAll(text, 64)).toEqual(events);
    expect(parseAll(text.replace(/\n/g, '\r\n'), 100)).toEqual(events);
  });

  it('judges by is_error: a 500 ends with subtype "success" and is a failure', () => {
    const ev = parseAll(fixture('claude-api-error.jsonl'));
    expect(ev.find((e) => e.type === 'error')).toMatchObject({
      message: expect.stringContaining('API Error: 500'),
    });
    expect(ev.at(-1)).toMatchObject({ type: 'result', ok: false, summary: expect.stringContaining('500') });
    expect(ev.some((e) => e.type === 'rate_limit')).toBe(false);
  });

  it('turns a 429 into one rate_limit event and a failed result', () => {
    const ev = parseAll(fixture('claude-rate-limit.jsonl'));
    const limits = ev.filter((e) => e.type === 'rate_limit');
    expect(limits).toEqual([{ type: 'rate_limit', message: expect.stringContaining('429') }]);
    expect(ev.at(-1)).toMatchObject({ type: 'result', ok: false });
  });
});

describe('claude stream-json parser (edge cases)', () => {
  it('reads the reset time of a usage limit: rate_limit_event, epoch suffix, or a phrase', () => {
    const ev = parseAll(
      init +
        line({
          type: 'rate_limit_event',
          rate_limit_info: { status: 'rejected', resetsAt: 1_893_510_000, rateLimitType: 'five_hour' },
        }) +
        line({
          type: 'rate_limit_event',
          rate_limit_info: { status: 'allowed_warning', resetsAt: 1_893_510_000 },
        }),
    );
    expect(ev.filter((e) => e.type === 'rate_limit')).toEqual([
      { type: 'rate_limit', message: 'usage limit reached (five_hour)', resetAt: '2030-01-01T15:00:00.000Z' },
    ]);

    const legacy = parseAll(
      init +
        line({
          type: 'result',
          subtype: 'success',
          is_error: true,
          result: 'Claude AI usage limit reached|1893510000',
          num_turns: 1,
          total_cost_usd: 0,
        }),
    );
    expect(legacy.find((e) => e.type === 'rate_limit')).toMatchObject({
      resetAt: '2030-01-01T15:00:00.000Z',
    });
    expect(legacy.at(-1)).toMatchObject({ type: 'result', ok: false });

    const phrase = parseAll(init + "You've hit your usage limit · resets 3pm (Europe/Paris)\n");
    expect(phrase.find((e) => e.type === 'rate_limit')).toMatchObject({ resetAt: '3pm (Europe/Paris)' });
  });

  it('does not count subagent turns into the context size, but counts their tokens', () => {
    const msg = (id: string, input: number, parent: string | null) =>
      line({
        type: 'assistant',
        parent_tool_use_id: parent,
        message: {
          id,
          model: 'claude-sonnet-4-5',
          content: [],
          usage: { input_tokens: input, output_tokens: 5 },
        },
      });
    const ev = parseAll(init + msg('m1', 1000, null) + msg('m2', 50_000, 'toolu_1'));
    const last = ev.filter((e) => e.type === 'usage').at(-1);
    expect(last).toMatchObject({
      usage: { inputTokens: 51_000, contextTokens: 1000, contextWindow: 200_000 },
    });
  });

  it('takes the context window from the result when the CLI reports one', () => {
    const ev = parseAll(
      init +
        line({
          type: 'result',
          subtype: 'success',
          is_error: false,
          result: 'ok',
          usage: { input_tokens: 10, output_tokens: 2 },
          modelUsage: { 'claude-sonnet-4-5': { contextWindow: 1_000_000 } },
          total_cost_usd: 0.5,
        }),
    );
    expect(ev.at(-1)).toMatchObject({
      type: 'result',
      ok: true,
      usage: { contextWindow: 1_000_000, costUsd: 0.5 },
    });
  });

  it('fails a max-turns result, passes plain text through, and notes a stream cut short', () => {
    const maxTurns = parseAll(
      init + line({ type: 'result', subtype: 'error_max_turns', is_error: true, num_turns: 9 }),
    );
    expect(maxTurns.at(-1)).toMatchObject({
      type: 'result',
      ok: false,
      summary: 'error_max_turns',
      turns: 9,
    });

    const cut = parseAll(`${init}Error: something broke\n{"type":"assistant","mess`);
    expect(cut).toContainEqual({ type: 'text', text: 'Error: something broke' });
    expect(cut.at(-1)).toEqual({ type: 'error', message: 'claude output ended without a result event' });
  });
});
