/**
 * The real Claude Code CLI (devDependency of @orch/test-utils), launched with the claude adapter's
 * argv, talking to the scripted API stub: it writes a file and commits it in a real repository.
 * With ORCH_RECORD_FIXTURES=1 the transcripts are saved (scrubbed) as the parser's fixtures.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { apiError, tempRepo, text, toolResults, toolUse, turn, type TempRepo } from '@orch/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AgentEvent } from '../src/index.js';
import { runClaude, scrubTranscript } from './claude-cli.js';

const record = process.env['ORCH_RECORD_FIXTURES'] === '1';
const fixture = (name: string): string => join(import.meta.dirname, 'fixtures', name);
const MODEL = 'claude-sonnet-4-5';

let repo: TempRepo;
beforeEach(async () => {
  repo = await tempRepo({ 'README.md': '# demo\n' });
});
afterEach(async () => {
  await repo.cleanup();
});

const ofType = <T extends AgentEvent['type']>(events: AgentEvent[], type: T) =>
  events.filter((e): e is Extract<AgentEvent, { type: T }> => e.type === type);

describe('claude adapter with the real CLI', () => {
  it('writes a file, commits it, and reports tokens and cost', async () => {
    const run = await runClaude({
      cwd: repo.root,
      prompt: 'Create src/greeting.txt saying hello, then commit it.',
      systemPrompt: '---\nname: worker\n---\nYou are an orch worker. ORCH-SYSTEM-MARKER\n',
      config: { agents: { model: MODEL } },
      script: [
        turn(
          text('I will create the file.'),
          toolUse('Write', {
            file_path: join(repo.root, 'src/greeting.txt'),
            content: 'hello from claude\n',
          }),
          {
            input_tokens: 1200,
            output_tokens: 40,
            cache_read_input_tokens: 300,
            cache_creation_input_tokens: 50,
          },
        ),
        turn(
          toolUse('Bash', {
            command: 'git add -A && git commit -q -m "Add greeting"',
            description: 'Commit the file',
          }),
          { input_tokens: 1400, output_tokens: 30, cache_read_input_tokens: 500 },
        ),
        turn(text('Created src/greeting.txt and committed it.'), {
          input_tokens: 1500,
          output_tokens: 12,
          cache_read_input_tokens: 600,
        }),
      ],
    });
    expect(run.exitCode, run.stderr).toBe(0);

    // The work happened in the repository.
    expect(await readFile(join(repo.root, 'src/greeting.txt'), 'utf8')).toBe('hello from claude\n');
    expect(await repo.git('log', '-1', '--format=%s')).toBe('Add greeting');
    expect(await repo.git('show', '--name-only', '--format=', 'HEAD')).toBe('src/greeting.txt');
    expect(await repo.git('status', '--porcelain')).toBe('');

    // The CLI got what the adapter built: prompt on stdin, appended system prompt without front matter.
    const main = run.stub.requests.filter((r) => r.kind === 'main');
    expect(main).toHaveLength(3);
    const first = JSON.stringify(main[0]?.body);
    expect(first).toContain('Create src/greeting.txt saying hello');
    expect(first).toContain('ORCH-SYSTEM-MARKER');
    expect(first).not.toContain('name: worker');
    expect(first).toContain(`Primary working directory: ${repo.root}`);
    expect(main[0]?.body?.['model']).toBe(MODEL);
    // Each tool ran and its result came back in the next request.
    expect(String(toolResults(main[1]!)[0]?.content)).toContain('File created successfully');
    expect(toolResults(main[2]!)[0]?.is_error).toBe(false);

    // The stream, parsed.
    const events = run.events;
    expect(events[0]).toMatchObject({ type: 'started', model: MODEL });
    expect(ofType(events, 'tool').map((t) => t.name)).toEqual(['Write', 'Bash']);
    expect(ofType(events, 'tool')[0]?.summary).toBe(join(repo.root, 'src/greeting.txt'));
    expect(ofType(events, 'text').map((t) => t.text)).toEqual([
      'I will create the file.',
      'Created src/greeting.txt and committed it.',
    ]);
    const result = ofType(events, 'result');
    expect(result).toHaveLength(1);
    expect(result[0]).toMatchObject({
      ok: true,
      turns: 3,
      summary: 'Created src/greeting.txt and committed it.',
      usage: {
        inputTokens: 4100,
        outputTokens: 82,
        cacheReadTokens: 1400,
        cacheWriteTokens: 50,
        // The last turn's prompt: input plus cache.
        contextTokens: 2100,
        contextWindow: 200_000,
      },
    });
    // Sonnet 4.5 list prices per million tokens: $3 input, $15 output, $0.30 cache read, $3.75 cache write.
    const expected = (4100 * 3 + 82 * 15 + 1400 * 0.3 + 50 * 3.75) / 1e6;
    expect(result[0]?.usage?.costUsd).toBeCloseTo(expected, 8);
    // Usage climbs as turns arrive, before the result.
    const inputs = ofType(events, 'usage').map((u) => u.usage.inputTokens ?? 0);
    expect(inputs.slice(0, 3)).toEqual([1200, 2600, 4100]);
    expect(events.at(-1)?.type).toBe('result');

    if (record) {
      const scrubbed = scrubTranscript(
        run.stdout,
        { [repo.root]: '/repo', [run.configDir]: '/claude-config' },
        run.stub.port,
      );
      await writeFile(fixture('claude-stream.jsonl'), scrubbed);
    }
  });

  it('judges by is_error: an API error ends with subtype success but fails', async () => {
    const run = await runClaude({
      cwd: repo.root,
      prompt: 'Say hi.',
      script: [apiError(500, 'api_error', 'Internal server error')],
      extraEnv: { CLAUDE_CODE_MAX_RETRIES: '0' },
    });
    expect(run.exitCode).toBe(1);
    const raw = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
    expect(raw).toMatchObject({ type: 'result', subtype: 'success', is_error: true });
    const result = ofType(run.events, 'result')[0];
    expect(result?.ok).toBe(false);
    expect(result?.summary).toContain('500');
    expect(ofType(run.events, 'error')[0]?.message).toContain('500');
    expect(ofType(run.events, 'rate_limit')).toEqual([]);
    if (record) {
      await writeFile(
        fixture('claude-api-error.jsonl'),
        scrubTranscript(
          run.stdout,
          { [repo.root]: '/repo', [run.configDir]: '/claude-config' },
          run.stub.port,
        ),
      );
    }
  });

  it('reports a 429 as a rate limit, not as a plain failure', async () => {
    const run = await runClaude({
      cwd: repo.root,
      prompt: 'Say hi.',
      script: [
        apiError(429, 'rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit'),
      ],
      extraEnv: { CLAUDE_CODE_MAX_RETRIES: '0' },
    });
    expect(run.exitCode).toBe(1);
    const limits = ofType(run.events, 'rate_limit');
    expect(limits).toHaveLength(1);
    expect(limits[0]?.message).toContain('rate limit');
    expect(ofType(run.events, 'result')[0]?.ok).toBe(false);
    if (record) {
      await writeFile(
        fixture('claude-rate-limit.jsonl'),
        scrubTranscript(
          run.stdout,
          { [repo.root]: '/repo', [run.configDir]: '/claude-config' },
          run.stub.port,
        ),
      );
    }
  });
});
