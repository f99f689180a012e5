/** Tool results: the value as structured content (and as JSON text for clients that read only text). */
import { OrchError, toOrchError } from '@orch/core';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

export function ok(value: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value) }], structuredContent: value };
}

/** A failed call as a tool error the model can act on: the stable code, what happened, the hint. */
export function fail(e: unknown): CallToolResult {
  const err = e instanceof OrchError ? e : toOrchError(e);
  const error = {
    code: err.code,
    message: err.message,
    ...(err.hint ? { hint: err.hint } : {}),
  };
  const text = `${err.code}: ${err.message}${err.hint ? `\nhint: ${err.hint}` : ''}`;
  return { isError: true, content: [{ type: 'text', text }], structuredContent: { error } };
}

const running = new Set<Promise<CallToolResult>>();

/** Runs a tool body; anything it throws becomes a tool error rather than a protocol error. */
export function guarded(body: () => Promise<Record<string, unknown>>): Promise<CallToolResult> {
  const call = body().then(ok, fail);
  running.add(call);
  void call.finally(() => running.delete(call));
  return call;
}

/** Resolves once no tool call is running (their results are then handed to the transport). */
export async function settled(): Promise<void> {
  while (running.size > 0) await Promise.allSettled([...running]);
}
