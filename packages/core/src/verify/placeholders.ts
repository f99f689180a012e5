/**
 * `{modified_files}` and `{modified_tests}` in verification commands. The command itself is the
 * plan author's shell text; the file names come from the task's changes (untrusted), so each one is
 * quoted into exactly one literal shell word.
 */
import { shellQuoteAll } from '../text/shell-quote.js';

/** Replaces the placeholders with the shell-quoted lists (empty when there are none). */
export function expandPlaceholders(
  command: string,
  lists: { modifiedFiles: readonly string[]; modifiedTests: readonly string[] },
): string {
  return command
    .replaceAll('{modified_files}', shellQuoteAll(lists.modifiedFiles))
    .replaceAll('{modified_tests}', shellQuoteAll(lists.modifiedTests));
}

const TEST_FILE_RES = [
  /(^|\/)[^/]+\.(test|spec)\.[cm]?[jt]sx?$/, // vitest, jest, mocha
  /(^|\/)test_[^/]+\.py$/, // pytest
  /(^|\/)[^/]+_test\.(py|go)$/, // pytest, go test
  /(^|\/)(__tests__|tests?)\/.+\.([cm]?[jt]sx?|py|rs|go|rb)$/, // test directories
  /(^|\/)[^/]+_spec\.rb$/,
];

export function isTestFile(path: string): boolean {
  return TEST_FILE_RES.some((re) => re.test(path));
}

/** `src/auth/login.service.ts` → `login.service`; `pkg/auth.py` → `auth`. */
function stem(path: string): string {
  const base = path.split('/').pop() ?? path;
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(0, dot) : base;
}

/** The stems a test file is named after: `auth.test.ts`, `test_auth.py`, `auth_test.go` → `auth`. */
function testedStem(testPath: string): string {
  return stem(testPath)
    .replace(/\.(test|spec)$/, '')
    .replace(/^test_/, '')
    .replace(/_(test|spec)$/, '');
}

/**
 * The tests for a change: the changed files that are tests, plus every tracked test file named after
 * a changed source file (`src/auth.ts` → `test/auth.test.ts`, `auth.py` → `tests/test_auth.py`).
 * `changed` should hold only files present at the head; the result is sorted and unique.
 */
export function modifiedTests(changed: readonly string[], tracked: readonly string[]): string[] {
  const out = new Set(changed.filter(isTestFile));
  const stems = new Set(changed.filter((p) => !isTestFile(p)).map(stem));
  if (stems.size > 0) {
    for (const t of tracked) if (isTestFile(t) && stems.has(testedStem(t))) out.add(t);
  }
  return [...out].sort();
}
