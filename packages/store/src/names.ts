import { OrchError } from '@orch/core';

// Control characters, path separators and `..` would let a name escape its folder or garble a terminal.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Throws unless `name` is safe as one path component (an inbox, a run id, a sender). */
export function assertSafeName(name: string, what: string): string {
  if (
    typeof name !== 'string' ||
    name.length === 0 ||
    name.length > 128 ||
    name.includes('/') ||
    name.includes('\\') ||
    name.includes('..') ||
    name === '.' ||
    CONTROL.test(name)
  ) {
    throw new OrchError('ERR_ORCH_INVALID_NAME', `invalid ${what} ${JSON.stringify(name)}`, {
      hint: `A ${what} must be 1-128 characters without '/', '\\', '..' or control characters.`,
    });
  }
  return name;
}
