/**
 * The plan's risk score, with the seed's factors and weights. Sensitive words match whole words
 * of a written path (segments split at `-`, `_`, `.` and camelCase, plural `s` allowed), so
 * `authService.ts` and `db/migrations/` count while `products/`, `keyboard.ts` and `tokenizer.ts`
 * do not. Each path counts once, for the first pattern that matches (as in the seed).
 */
import type { Plan } from '../plan/schema.js';
import type { Config } from '../config/schema.js';
import { createRequire } from 'node:module';
import type * as Re2Module from 're2js';
import { OrchError } from '../errors.js';

export const DEFAULT_SENSITIVE_PATTERNS: readonly { pattern: string; weight: number }[] = [
  { pattern: 'auth|security|crypto', weight: 20 },
  { pattern: 'payment|billing|stripe', weight: 25 },
  { pattern: 'prod|production|deploy', weight: 30 },
  { pattern: 'admin|sudo|root', weight: 15 },
  { pattern: '\\.env|secret|key|token', weight: 25 },
  { pattern: 'migration|schema|database', weight: 15 },
];
export const DEFAULT_AUTO_APPROVE_THRESHOLD = 25;

export type RiskStatus = 'AUTO-APPROVE' | 'REQUIRES REVIEW' | 'HIGH RISK';

export interface RiskReport {
  score: number;
  factors: string[];
  auto_approve: boolean;
  auto_approve_threshold: number;
  status: RiskStatus;
}

/** Lower-case words of one path segment: `authService.test.ts` → auth, service, test, ts. */
export function segmentWords(segment: string): string[] {
  return segment
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== '');
}

const WORDS_ONLY = /^[\w.\\-]+(\|[\w.\\-]+)*$/;

/** A written path, split once into what the matchers look at. */
export interface RiskPath {
  path: string;
  /** Lower-cased segments. */
  segments: string[];
  /** Words of each segment. */
  words: string[][];
}

export function riskPath(path: string): RiskPath {
  const segs = path.split('/');
  return { path, segments: segs.map((s) => s.toLowerCase()), words: segs.map(segmentWords) };
}

export interface SensitiveMatcher {
  /** The label in factor strings: the pattern's first alternative. */
  label: string;
  weight: number;
  test: (path: RiskPath) => boolean;
  /**
   * For word patterns, which look at one segment at a time: whether this segment (lower-cased,
   * and its words) matches. A path matches when any of its segments does, so results can be
   * shared between paths.
   */
  segment?: (lower: string, words: string[]) => boolean;
  /**
   * With `segment`: lower-case texts of which a segment holds at least one when `segment`
   * matches it (each alternative's first word), so most segments are judged without splitting
   * them into words.
   */
  needles?: readonly string[];
}

/**
 * Whether one segment matches a word alternative (`auth`, `api_key`, `.env`), and the text a
 * matching segment contains (its lower-case form holds each of its words; none when it never
 * matches).
 */
function wordMatcher(alt: string): {
  match: (lower: string, words: string[]) => boolean;
  needle: string | undefined;
} {
  const plain = alt.replace(/\\(.)/g, '$1').toLowerCase();
  if (plain.startsWith('.')) {
    // `.env`: a dotfile name or extension, not the word "env" anywhere.
    return {
      match: (s) => s === plain || s.startsWith(`${plain}.`) || s.endsWith(plain),
      needle: plain,
    };
  }
  const want = segmentWords(plain);
  if (want.length === 0) return { match: () => false, needle: undefined };
  const match = (_s: string, words: string[]): boolean => {
    for (let i = 0; i + want.length <= words.length; i++) {
      let ok = true;
      for (let k = 0; k < want.length && ok; k++) {
        const w = words[i + k] as string;
        const x = want[k] as string;
        ok = w === x || (k === want.length - 1 && w === `${x}s`);
      }
      if (ok) return true;
    }
    return false;
  };
  return { match, needle: want[0] };
}

type Re2 = typeof Re2Module;
let re2: Re2 | undefined;
/** re2js loads on first use: the default patterns are all words, and plan checks must start fast. */
function loadRe2(): Re2 {
  re2 ??= createRequire(import.meta.url)('re2js') as Re2;
  return re2;
}

/** Syntax the linear-time engine cannot run, named so that the config error says what to change. */
function unsupportedSyntax(p: string): string | undefined {
  if (/\\[1-9]|\\k</.test(p)) return 'uses a back-reference';
  if (/\(\?<?[=!]/.test(p)) return 'uses lookahead or lookbehind';
  return undefined;
}

/**
 * A sensitive pattern: a plain alternation of words (`auth|security`) matches whole words; any
 * other pattern is a case-insensitive RE2 regular expression over the path, matched in linear
 * time (re2js), so no pattern can hang a plan check. Throws ERR_ORCH_CONFIG_INVALID for a
 * pattern RE2 cannot run (back-references, lookaround) or that does not parse.
 */
export function compileSensitivePattern(pattern: string, weight: number): SensitiveMatcher {
  const label = (pattern.split('|')[0] ?? pattern).replace(/\\(.)/g, '$1');
  if (WORDS_ONLY.test(pattern)) {
    const alts = pattern.split('|').map(wordMatcher);
    const segment = (lower: string, words: string[]): boolean => alts.some((m) => m.match(lower, words));
    return {
      label,
      weight,
      segment,
      needles: alts.flatMap((m) => (m.needle === undefined ? [] : [m.needle])),
      test: (p) => p.segments.some((s, i) => segment(s, p.words[i] as string[])),
    };
  }
  let why = pattern.length > 1000 ? 'is longer than 1000 characters' : unsupportedSyntax(pattern);
  let test: ((path: string) => boolean) | undefined;
  if (!why) {
    const { RE2JS } = loadRe2();
    try {
      const re = RE2JS.compile(pattern, RE2JS.CASE_INSENSITIVE);
      test = (path) => re.test(path);
    } catch (e) {
      const msg = (e instanceof Error ? e.message : String(e)).replace(/^error parsing regexp: /, '');
      why = `is not a valid RE2 regular expression (${msg})`;
    }
  }
  if (!test) {
    throw new OrchError(
      'ERR_ORCH_CONFIG_INVALID',
      `sensitive pattern ${JSON.stringify(pattern)} ${why ?? 'is invalid'}`,
      {
        hint: 'Use a list of words like "auth|payment", or an RE2 regular expression (no back-references or lookaround); docs/configuration.md describes the syntax.',
      },
    );
  }
  const compiled = test;
  return { label, weight, test: (p) => compiled(p.path) };
}

/** The effective risk settings: `risk:` wins over the seed's `approval:` spelling, key by key. */
export function riskSettings(config?: Config): { matchers: SensitiveMatcher[]; threshold: number } {
  const section = { ...(config?.approval ?? {}), ...(config?.risk ?? {}) };
  const configured = section.sensitive_patterns ?? [];
  const patterns =
    configured.length > 0
      ? configured.map((p) =>
          typeof p === 'string' ? { pattern: p, weight: 10 } : { pattern: p.pattern, weight: p.weight },
        )
      : DEFAULT_SENSITIVE_PATTERNS;
  return {
    matchers: patterns.map((p) => compileSensitivePattern(p.pattern, p.weight)),
    threshold: section.auto_approve_threshold ?? DEFAULT_AUTO_APPROVE_THRESHOLD,
  };
}

/**
 * The first matcher (in order) that matches a path. Word matchers are judged once per distinct
 * segment (plans repeat `src`, `index.ts`... thousands of times); only regular expressions look
 * at each whole path, and only those ahead of the best word match.
 */
export function sensitiveMatchFinder(
  matchers: readonly SensitiveMatcher[],
): (path: string) => SensitiveMatcher | undefined {
  const none = matchers.length;
  const bySegment = new Map<string, number>();
  // A segment that holds no needle of any word matcher matches none of them (one regex test).
  const needles = matchers.every((m) => !m.segment || m.needles)
    ? matchers.flatMap((m) => (m.segment ? (m.needles ?? []) : []))
    : undefined;
  const mayMatch =
    needles && new RegExp(needles.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|') || '(?!)');
  const segmentBest = (segment: string): number => {
    let best = bySegment.get(segment);
    if (best === undefined) {
      const lower = segment.toLowerCase();
      if (mayMatch && !mayMatch.test(lower)) best = none;
      else {
        const words = segmentWords(segment);
        best = matchers.findIndex((m) => m.segment?.(lower, words) === true);
        if (best < 0) best = none;
      }
      bySegment.set(segment, best);
    }
    return best;
  };
  return (path) => {
    let best = none;
    for (const seg of path.split('/')) best = Math.min(best, segmentBest(seg));
    for (let i = 0; i < best; i++) {
      const m = matchers[i] as SensitiveMatcher;
      if (!m.segment && m.test(riskPath(path))) return m;
    }
    return matchers[best];
  };
}

export function riskStatus(score: number, threshold: number): RiskStatus {
  if (score <= threshold) return 'AUTO-APPROVE';
  if (score <= threshold * 2) return 'REQUIRES REVIEW';
  return 'HIGH RISK';
}

/** Scores a plan; `auto_approve` when the score is at or below the threshold. */
export function scoreRisk(plan: Plan, config?: Config): RiskReport {
  const { matchers, threshold } = riskSettings(config);
  let score = 0;
  const factors: string[] = [];
  const firstMatch = sensitiveMatchFinder(matchers);
  for (const t of plan.tasks) {
    for (const path of t.files_write) {
      const m = firstMatch(path);
      if (m) {
        score += m.weight;
        factors.push(`sensitive_path:${path}:${m.label}`);
      }
    }
  }
  const n = plan.tasks.length;
  if (n > 5) {
    score += (n - 5) * 5;
    factors.push(`many_tasks:${n}`);
  }
  const files = plan.tasks.reduce((s, t) => s + t.files_write.length, 0);
  if (files > 10) {
    score += (files - 10) * 3;
    factors.push(`many_files:${files}`);
  }
  const hot = plan.tasks.reduce((s, t) => s + t.patch_intents.length, 0);
  if (hot > 3) {
    score += (hot - 3) * 5;
    factors.push(`many_hot_files:${hot}`);
  }
  const deps = plan.tasks.reduce((s, t) => s + (t.deps_required?.runtime.length ?? 0), 0);
  if (deps > 0) {
    score += deps * 3;
    factors.push(`new_dependencies:${deps}`);
  }
  const contracts = plan.contracts.length;
  if (contracts > 3) {
    score += (contracts - 3) * 5;
    factors.push(`many_contracts:${contracts}`);
  }
  if (n > 0) {
    const tested = plan.tasks.filter((t) => t.verification.some((v) => v.type === 'test')).length;
    if (tested < n) {
      const ratio = tested / n;
      score += Math.floor((1 - ratio) * 20);
      factors.push(`incomplete_test_coverage:${Math.round(ratio * 100)}%`);
    }
  }
  return {
    score,
    factors,
    auto_approve: score <= threshold,
    auto_approve_threshold: threshold,
    status: riskStatus(score, threshold),
  };
}
