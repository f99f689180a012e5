/**
 * A scripted stand-in for the Anthropic Messages API, for driving the real Claude Code CLI in tests
 * (`ANTHROPIC_BASE_URL=<stub.url>`). Main-conversation turns come from the script; side requests
 * (no tools, or another model than the conversation's) get a short text without consuming a turn.
 */
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type StubBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id?: string; name: string; input: Record<string, unknown> };

export interface StubUsage {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
}

export interface StubTurn {
  content: StubBlock[];
  usage?: Partial<StubUsage>;
  /** Default: `tool_use` when a block is a tool use, else `end_turn`. */
  stopReason?: string;
}

/** An HTTP error answer, shaped like the API's (`{type:'error', error:{type, message}}`). */
export interface StubError {
  error: { status: number; type: string; message: string; headers?: Record<string, string> };
}

export interface StubRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body, or undefined when there was none. */
  body: Record<string, unknown> | undefined;
  kind: 'main' | 'side' | 'count_tokens' | 'other';
  /** 0-based main-conversation turn this request consumed. */
  turn?: number;
}

export type StubAnswer = StubTurn | StubError;
export type StubScript =
  readonly StubAnswer[] | ((req: StubRequest, turn: number) => StubAnswer | Promise<StubAnswer>);

export interface AnthropicStub {
  url: string;
  port: number;
  /** Every request received, in order. */
  requests: StubRequest[];
  /** Main-conversation turns answered so far. */
  readonly turns: number;
  close: () => Promise<void>;
}

export interface AnthropicStubOptions {
  script: StubScript;
  /** Answer for side requests (title generation, haiku calls); default 'OK'. */
  sideText?: string;
  /** Answer once a sequence script is used up; default a final text turn. */
  exhausted?: StubAnswer;
}

let toolCounter = 0;
const nextToolId = (): string => `toolu_stub_${String(++toolCounter).padStart(4, '0')}`;

export function text(s: string): StubBlock {
  return { type: 'text', text: s };
}

export function toolUse(name: string, input: Record<string, unknown>, id?: string): StubBlock {
  return { type: 'tool_use', id: id ?? nextToolId(), name, input };
}

/** One turn from blocks (usage optional as the last argument). */
export function turn(...blocks: (StubBlock | Partial<StubUsage>)[]): StubTurn {
  const content = blocks.filter((b): b is StubBlock => 'type' in b);
  const usage = blocks.find((b): b is Partial<StubUsage> => !('type' in b));
  return usage ? { content, usage } : { content };
}

export function apiError(
  status: number,
  type: string,
  message: string,
  headers?: Record<string, string>,
): StubError {
  return { error: { status, type, message, ...(headers ? { headers } : {}) } };
}

/** The `tool_result` blocks of the request's last user message (what the CLI sends after running tools). */
export function toolResults(
  req: StubRequest,
): { tool_use_id: string; content: unknown; is_error?: boolean }[] {
  const messages = (req.body?.['messages'] ?? []) as { role: string; content: unknown }[];
  const last = [...messages].reverse().find((m) => m.role === 'user');
  if (!last || !Array.isArray(last.content)) return [];
  return (
    last.content as { type: string; tool_use_id: string; content: unknown; is_error?: boolean }[]
  ).filter((b) => b.type === 'tool_result');
}

/** Absolute path of the Claude Code CLI installed as this package's devDependency. */
export function claudeBin(): string {
  const pkgRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const shim = join(pkgRoot, 'node_modules', '.bin', 'claude');
  if (existsSync(shim)) return shim;
  const require = createRequire(join(pkgRoot, 'package.json'));
  const manifest = require.resolve('@anthropic-ai/claude-code/package.json');
  const { bin } = require(manifest) as { bin: string | Record<string, string> };
  return join(dirname(manifest), typeof bin === 'string' ? bin : (bin['claude'] ?? 'cli.js'));
}

/**
 * The environment that points the real Claude Code CLI at a stub: the test copy first on `PATH`
 * (so a bare `claude`, as the adapter runs it, is that copy), the stub's URL, any key, no other
 * traffic, and a config folder of the test's own.
 */
export function claudeEnv(
  stubUrl: string,
  configDir: string,
  path: string = process.env['PATH'] ?? '',
): Record<string, string> {
  return {
    PATH: `${dirname(claudeBin())}:${path}`,
    ANTHROPIC_BASE_URL: stubUrl,
    ANTHROPIC_API_KEY: 'test',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    CLAUDE_CONFIG_DIR: configDir,
  };
}

const isError = (a: StubAnswer): a is StubError => 'error' in a;

function defaultUsage(u: Partial<StubUsage> | undefined): StubUsage {
  return {
    input_tokens: u?.input_tokens ?? 100,
    output_tokens: u?.output_tokens ?? 20,
    cache_read_input_tokens: u?.cache_read_input_tokens ?? 0,
    cache_creation_input_tokens: u?.cache_creation_input_tokens ?? 0,
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((res, rej) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => res(Buffer.concat(chunks).toString('utf8')));
    req.on('error', rej);
  });
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

let messageCounter = 0;

function messageOf(model: string, t: StubTurn) {
  const content = t.content.map((b): StubBlock & { id?: string } =>
    b.type === 'tool_use' ? { type: 'tool_use', id: b.id ?? nextToolId(), name: b.name, input: b.input } : b,
  );
  const stopReason = t.stopReason ?? (content.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn');
  return {
    id: `msg_stub_${String(++messageCounter).padStart(6, '0')}`,
    type: 'message' as const,
    role: 'assistant' as const,
    model,
    content,
    stopReason,
    usage: defaultUsage(t.usage),
  };
}

/** Streams one message as the API does: start, a start/delta/stop triple per block, delta, stop. */
function streamMessage(res: ServerResponse, m: ReturnType<typeof messageOf>): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  const send = (type: string, data: Record<string, unknown>): void => {
    res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
  };
  // Like the API: message_start carries the input side, message_delta the final output count.
  send('message_start', {
    message: {
      id: m.id,
      type: 'message',
      role: 'assistant',
      model: m.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { ...m.usage, output_tokens: 1 },
    },
  });
  m.content.forEach((b, index) => {
    if (b.type === 'text') {
      send('content_block_start', { index, content_block: { type: 'text', text: '' } });
      send('content_block_delta', { index, delta: { type: 'text_delta', text: b.text } });
    } else {
      send('content_block_start', {
        index,
        content_block: { type: 'tool_use', id: b.id, name: b.name, input: {} },
      });
      // Split the JSON in two to exercise the client's partial-JSON assembly.
      const json = JSON.stringify(b.input);
      const cut = Math.floor(json.length / 2);
      send('content_block_delta', {
        index,
        delta: { type: 'input_json_delta', partial_json: json.slice(0, cut) },
      });
      send('content_block_delta', {
        index,
        delta: { type: 'input_json_delta', partial_json: json.slice(cut) },
      });
    }
    send('content_block_stop', { index });
  });
  send('message_delta', {
    delta: { stop_reason: m.stopReason, stop_sequence: null },
    usage: { ...m.usage },
  });
  send('message_stop', {});
  res.end();
}

function answer(res: ServerResponse, body: Record<string, unknown>, a: StubAnswer): void {
  if (isError(a)) {
    sendJson(
      res,
      a.error.status,
      { type: 'error', error: { type: a.error.type, message: a.error.message } },
      a.error.headers,
    );
    return;
  }
  const m = messageOf(typeof body['model'] === 'string' ? body['model'] : 'claude-stub', a);
  if (body['stream'] === true) return streamMessage(res, m);
  const { stopReason, ...rest } = m;
  sendJson(res, 200, { ...rest, stop_reason: stopReason, stop_sequence: null });
}

export async function startAnthropicStub(opts: AnthropicStubOptions): Promise<AnthropicStub> {
  const requests: StubRequest[] = [];
  let turns = 0;
  let mainModel: string | undefined;
  const script = opts.script;
  const exhausted = opts.exhausted ?? { content: [text('(stub script finished)')] };

  const next = async (req: StubRequest, n: number): Promise<StubAnswer> => {
    if (typeof script === 'function') return script(req, n);
    return script[n] ?? exhausted;
  };

  const server = createServer((req, res) => {
    void (async () => {
      const raw = await readBody(req);
      let body: Record<string, unknown> | undefined;
      try {
        body = raw ? (JSON.parse(raw) as Record<string, unknown>) : undefined;
      } catch {
        body = undefined;
      }
      const url = req.url ?? '/';
      const path = url.split('?')[0] ?? '/';
      const record: StubRequest = {
        method: req.method ?? 'GET',
        url,
        headers: req.headers,
        body,
        kind: 'other',
      };
      requests.push(record);

      if (req.method === 'POST' && path === '/v1/messages/count_tokens') {
        record.kind = 'count_tokens';
        // A rough estimate is enough: the CLI uses it only for display and compaction heuristics.
        return sendJson(res, 200, { input_tokens: Math.max(1, Math.ceil(raw.length / 4)) });
      }
      if (req.method !== 'POST' || path !== '/v1/messages' || !body) {
        // HEAD / and HEAD /api/hello are connectivity probes.
        return sendJson(res, req.method === 'HEAD' || path === '/' || path === '/api/hello' ? 200 : 404, {});
      }
      const tools = body['tools'];
      const model = typeof body['model'] === 'string' ? body['model'] : undefined;
      const hasTools = Array.isArray(tools) && tools.length > 0;
      if (hasTools && mainModel === undefined) mainModel = model;
      if (!hasTools || model !== mainModel) {
        record.kind = 'side';
        return answer(res, body, {
          content: [text(opts.sideText ?? 'OK')],
          usage: { input_tokens: 10, output_tokens: 2 },
        });
      }
      record.kind = 'main';
      record.turn = turns;
      const n = turns++;
      answer(res, body, await next(record, n));
    })().catch((e: unknown) => {
      if (!res.headersSent)
        sendJson(res, 500, { type: 'error', error: { type: 'api_error', message: String(e) } });
      else res.end();
    });
  });

  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    get turns() {
      return turns;
    },
    close: () =>
      new Promise<void>((res) => {
        server.closeAllConnections();
        server.close(() => res());
      }),
  };
}
