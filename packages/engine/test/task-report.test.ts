import { describe, expect, it } from 'vitest';
import type { RunState } from '@orch/core';
import { checkUserReport, reportBody } from '../src/task-report/rules.js';

const state = (statuses: Record<string, string>): RunState =>
  ({
    run: 'r1',
    order: Object.keys(statuses),
    tasks: Object.fromEntries(Object.entries(statuses).map(([id, status]) => [id, { id, status }])),
  }) as unknown as RunState;

const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code;
  }
};

describe('task report rules', () => {
  it('trims the texts of a report and refuses empty or oversized ones', () => {
    expect(reportBody({ kind: 'progress', message: '  parser done ' })).toEqual({
      kind: 'progress',
      message: 'parser done',
    });
    expect(reportBody({ kind: 'done' })).toEqual({ kind: 'done' });
    expect(reportBody({ kind: 'block', needs: 'zod@^4', reason: 'validation' })).toEqual({
      kind: 'block',
      needs: 'zod@^4',
      reason: 'validation',
    });
    expect(codeOf(() => reportBody({ kind: 'fail', reason: '   ' }))).toBe('ERR_ORCH_INVALID_INPUT');
    expect(codeOf(() => reportBody({ kind: 'done', summary: 'x'.repeat(16 * 1024 + 1) }))).toBe(
      'ERR_ORCH_INVALID_INPUT',
    );
  });

  it('lets the user report only for a named, known, open task', () => {
    const s = state({ api: 'running', ui: 'merged', db: 'failed' });
    expect(() => checkUserReport(s, 'api')).not.toThrow();
    expect(codeOf(() => checkUserReport(s, undefined))).toBe('ERR_ORCH_NO_TASK');
    expect(codeOf(() => checkUserReport(s, 'nope'))).toBe('ERR_ORCH_UNKNOWN_TASK');
    expect(codeOf(() => checkUserReport(s, 'ui'))).toBe('ERR_ORCH_TASK_FINISHED');
    expect(codeOf(() => checkUserReport(s, 'db'))).toBe('ERR_ORCH_TASK_FINISHED');
  });
});
