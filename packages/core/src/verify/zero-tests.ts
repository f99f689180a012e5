/**
 * How many tests a runner ran, read from its output. A `test` command that ran none (a wrong path,
 * a filter that matches nothing, an empty suite) passes silently in most runners; orch fails it.
 * Unknown output gives null: orch then trusts the exit code alone.
 */

export interface TestCount {
  runner: 'vitest' | 'jest' | 'mocha' | 'node' | 'pytest' | 'go' | 'cargo';
  /** Tests that ran (passed or failed; skipped ones did not run). */
  ran: number;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

function countsIn(line: string, words: string[]): number {
  let n = 0;
  for (const w of words) {
    const m = new RegExp(`(\\d+) ${w}\\b`).exec(line);
    if (m) n += Number(m[1]);
  }
  return n;
}

export function countTests(rawOutput: string, exitCode: number | null): TestCount | null {
  const out = rawOutput.replace(ANSI, '').replace(/\r/g, '');
  const lines = out.split('\n');

  // pytest: exit 5 is "no tests collected".
  if (exitCode === 5 && /\bno tests ran\b|collected 0 items/.test(out)) return { runner: 'pytest', ran: 0 };

  // vitest / jest: "No test files found" / "No tests found, exiting with code N".
  if (/^\s*No test files found\b/m.test(out)) return { runner: 'vitest', ran: 0 };
  if (/^\s*No tests found\b/m.test(out)) return { runner: 'jest', ran: 0 };

  // vitest summary: "      Tests  1 failed | 2 passed (3)".
  const vitest = lines.filter((l) => /^\s*Tests\s{2,}\S.*\(\d+\)\s*$/.test(l));
  if (vitest.length > 0)
    return { runner: 'vitest', ran: sum(vitest.map((l) => countsIn(l, ['passed', 'failed']))) };

  // jest summary: "Tests:       1 failed, 2 passed, 3 total".
  const jest = lines.filter((l) => /^Tests:\s+.*\d+ total/.test(l));
  if (jest.length > 0)
    return { runner: 'jest', ran: sum(jest.map((l) => countsIn(l, ['passed', 'failed']))) };

  // node --test: TAP "# tests 3" / spec reporter "ℹ tests 3", then "# skipped 1".
  const nodeTests = /^(?:#|ℹ) tests (\d+)\s*$/m.exec(out);
  if (nodeTests) {
    const skipped = /^(?:#|ℹ) skipped (\d+)\s*$/m.exec(out);
    const todo = /^(?:#|ℹ) todo (\d+)\s*$/m.exec(out);
    return { runner: 'node', ran: Number(nodeTests[1]) - Number(skipped?.[1] ?? 0) - Number(todo?.[1] ?? 0) };
  }

  // mocha: "  2 passing (5ms)" and "  1 failing".
  const passing = /^\s*(\d+) passing\b/m.exec(out);
  if (passing) {
    const failing = /^\s*(\d+) failing\b/m.exec(out);
    return { runner: 'mocha', ran: Number(passing[1]) + Number(failing?.[1] ?? 0) };
  }

  // pytest summary: "==== 2 passed, 1 skipped in 0.1s ====" / "no tests ran in 0.01s".
  const pytest = lines.filter((l) => /^=+ .*\bin [\d.]+s.* =+$/.test(l));
  if (pytest.length > 0) {
    const last = pytest[pytest.length - 1] ?? '';
    if (/no tests ran/.test(last)) return { runner: 'pytest', ran: 0 };
    return {
      runner: 'pytest',
      ran: countsIn(last, ['passed', 'failed', 'error', 'errors', 'xfailed', 'xpassed']),
    };
  }

  // cargo test: one "running N tests" per test binary (doc tests included).
  const cargo = [...out.matchAll(/^running (\d+) tests?$/gm)].map((m) => Number(m[1]));
  if (cargo.length > 0) return { runner: 'cargo', ran: sum(cargo) };

  // go test: one line per package; packages without tests say so.
  const goLines = lines.filter((l) => /^(ok|FAIL|\?)\s+\S+/.test(l) && /\t/.test(l));
  if (goLines.length > 0 || /testing: warning: no tests to run/.test(out)) {
    const withTests = goLines.filter((l) => !/\[no test files\]|\[no tests to run\]/.test(l));
    const verbose = (out.match(/^\s*--- (PASS|FAIL): /gm) ?? []).length;
    return { runner: 'go', ran: verbose > 0 ? verbose : withTests.length };
  }
  return null;
}

/** Whether the output shows that a recognised runner ran zero tests. */
export function ranZeroTests(output: string, exitCode: number | null): boolean {
  const c = countTests(output, exitCode);
  return c !== null && c.ran === 0;
}
