/** Turns zod issues into positioned, readable SourceIssues (with "did you mean" for unknown fields). */
import type { z } from 'zod';
import { didYouMean, type PathKey, type SourceDoc, type SourceIssue } from './source.js';

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let v = data;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Date) return 'a date';
  switch (typeof v) {
    case 'string':
      return `a string (${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)})`;
    case 'number':
      return `a number (${v})`;
    case 'boolean':
      return `a boolean (${v})`;
    case 'object':
      return 'a mapping';
    default:
      return typeof v;
  }
}

const article = (t: string): string => (t === 'array' ? 'a list' : t === 'object' ? 'a mapping' : t);

export function zodToIssues(
  error: z.ZodError,
  data: unknown,
  doc: SourceDoc,
  knownKeysAt: (path: readonly PropertyKey[]) => readonly string[],
): SourceIssue[] {
  const out: SourceIssue[] = [];
  for (const iss of error.issues.slice(0, 100)) {
    const path = iss.path.filter((k): k is PathKey => typeof k !== 'symbol');
    switch (iss.code) {
      case 'unrecognized_keys':
        for (const key of iss.keys) {
          const known = knownKeysAt(path);
          const guess = didYouMean(key, known);
          const msg = `unknown field ${JSON.stringify(key)}${guess ? ` (did you mean "${guess}"?)` : ''}`;
          out.push(doc.issue(path, msg, key));
        }
        break;
      case 'invalid_type': {
        const actual = valueAt(data, path);
        const expected = article(String(iss.expected));
        const msg =
          actual === undefined
            ? `is required (expected ${expected})`
            : `expected ${expected}, got ${describe(actual)}`;
        out.push(doc.issue(path, msg));
        break;
      }
      case 'invalid_value':
        out.push(
          doc.issue(
            path,
            `expected one of ${iss.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describe(valueAt(data, path))}`,
          ),
        );
        break;
      case 'too_small':
        out.push(
          doc.issue(
            path,
            iss.origin === 'array'
              ? `needs at least ${String(iss.minimum)} entr${iss.minimum === 1 ? 'y' : 'ies'}`
              : iss.message,
          ),
        );
        break;
      case 'invalid_union':
        out.push(doc.issue(path, `has the wrong shape: got ${describe(valueAt(data, path))}`));
        break;
      default:
        out.push(doc.issue(path, iss.message));
    }
  }
  return out;
}
