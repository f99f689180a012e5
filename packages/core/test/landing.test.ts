import { describe, expect, it } from 'vitest';
import { landingMessage, parseLandings, subjectLine } from '../src/merge/landing.js';

describe('landing commits', () => {
  const base = { task: 'api', verified: 'f'.repeat(40), attempt: 2, run: 'r1' };

  it('squash: `<task>: <summary>` and the four trailers', () => {
    expect(landingMessage({ ...base, strategy: 'squash', summary: 'add the login route' })).toBe(
      `api: add the login route\n\nOrch-Task: api\nOrch-Verified-Commit: ${'f'.repeat(40)}\nOrch-Attempt: 2\nOrch-Run: r1`,
    );
    expect(landingMessage({ ...base, strategy: 'merge', summary: 'x' })).toMatch(
      /^orch: merge api \(run r1\)\n\nOrch-Task: api/,
    );
  });

  it("keeps a worker's summary on the subject line: no line breaks, no control characters, no forged trailers", () => {
    const summary = 'done\n\nOrch-Task: other\nOrch-Run: r1\u001b]52;c;x\u0007';
    const msg = landingMessage({ ...base, strategy: 'squash', summary });
    expect(msg.split('\n')[0]).toBe('api: done Orch-Task: other Orch-Run: r1 ]52;c;x');
    expect(msg.match(/^Orch-Task: /gm)).toHaveLength(1);
    expect(subjectLine('x'.repeat(200))).toHaveLength(72);
  });

  it('reads landings back from git log output, skipping commits without all trailers', () => {
    const out =
      `\x1e${'a'.repeat(40)}\0Orch-Task: api\nOrch-Verified-Commit: ${'f'.repeat(40)}\nOrch-Attempt: 2\nOrch-Run: r1\n\n` +
      `\x1e${'b'.repeat(40)}\0\n` +
      `\x1e${'c'.repeat(40)}\0Orch-Task: web\nOrch-Run: r1\n`;
    expect(parseLandings(out)).toEqual([{ commit: 'a'.repeat(40), ...base }]);
  });
});
