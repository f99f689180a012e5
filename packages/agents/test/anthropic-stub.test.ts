/** The scripted Anthropic API stub itself: streaming and JSON answers, side requests, errors. */
import { apiError, startAnthropicStub, text, toolUse, turn, type AnthropicStub } from '@orch/test-utils';
import { afterEach, describe, expect, it } from 'vitest';

let stub: AnthropicStub | undefined;
afterEach(async () => {
  await stub?.close();
  stub = undefined;
});

const tools = [{ name: 'Write', input_schema: { type: 'object' } }];
type Msg = { content: { text: string }[] };
const post = (body: unknown, path = '/v1/messages?beta=true') =>
  fetch(`${stub!.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

/** Server-sent events as [event, data] pairs. */
function sse(raw: string): [string, Record<string, unknown>][] {
  return raw
    .trim()
    .split('\n\n')
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? '';
      const data = JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? '{}') as Record<string, unknown>;
      return [event, data];
    });
}

describe('anthropic stub', () => {
  it('streams a scripted turn: text and tool_use with input_json_delta, usage and stop reason', async () => {
    stub = await startAnthropicStub({
      script: [
        turn(text('hi'), toolUse('Write', { file_path: '/x', content: 'y' }, 'toolu_1'), {
          input_tokens: 7,
          output_tokens: 3,
        }),
      ],
    });
    const res = await post({ model: 'm', stream: true, tools, messages: [{ role: 'user', content: 'go' }] });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const events = sse(await res.text());
    expect(events.map(([e]) => e)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    for (const [e, d] of events) expect(d['type']).toBe(e);
    expect(events[4]?.[1]['content_block']).toEqual({
      type: 'tool_use',
      id: 'toolu_1',
      name: 'Write',
      input: {},
    });
    const json = events
      .filter(([e, d]) => e === 'content_block_delta' && d['index'] === 1)
      .map(([, d]) => (d['delta'] as { partial_json: string }).partial_json)
      .join('');
    expect(JSON.parse(json)).toEqual({ file_path: '/x', content: 'y' });
    expect(events[8]?.[1]).toMatchObject({
      delta: { stop_reason: 'tool_use' },
      usage: { output_tokens: 3, input_tokens: 7 },
    });
  });

  it('answers JSON when stream is false, and side requests without consuming turns', async () => {
    stub = await startAnthropicStub({
      script: [turn(text('first')), turn(text('second'))],
      sideText: 'Title',
    });
    const side = await (await post({ model: 'claude-haiku', messages: [] })).json();
    expect(side).toMatchObject({
      type: 'message',
      content: [{ type: 'text', text: 'Title' }],
      stop_reason: 'end_turn',
    });
    const a = (await (await post({ model: 'main', tools, messages: [] })).json()) as Msg;
    // A different model than the conversation's is a side request even with tools.
    await post({ model: 'claude-haiku', tools, messages: [] });
    const b = (await (await post({ model: 'main', tools, messages: [] })).json()) as Msg;
    const c = (await (await post({ model: 'main', tools, messages: [] })).json()) as Msg;
    expect([a, b, c].map((m: { content: { text: string }[] }) => m.content[0]?.text)).toEqual([
      'first',
      'second',
      '(stub script finished)',
    ]);
    expect(stub.requests.map((r) => r.kind)).toEqual(['side', 'main', 'side', 'main', 'main']);
    expect(stub.turns).toBe(3);
  });

  it('answers probes and token counts, and scripted API errors', async () => {
    stub = await startAnthropicStub({
      script: (_req, n) =>
        n === 0 ? apiError(429, 'rate_limit_error', 'slow down', { 'retry-after': '30' }) : turn(text('ok')),
    });
    expect((await fetch(`${stub.url}/api/hello`, { method: 'HEAD' })).status).toBe(200);
    expect(
      await (await post({ model: 'm', messages: [] }, '/v1/messages/count_tokens')).json(),
    ).toMatchObject({
      input_tokens: expect.any(Number),
    });
    const limited = await post({ model: 'm', tools, messages: [] });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('30');
    expect(await limited.json()).toEqual({
      type: 'error',
      error: { type: 'rate_limit_error', message: 'slow down' },
    });
    expect(((await (await post({ model: 'm', tools, messages: [] })).json()) as Msg).content[0]?.text).toBe(
      'ok',
    );
  });
});
