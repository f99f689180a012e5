/** Recognizing rate- and usage-limit errors in agents' messages, and the reset time they mention. */

const LIMIT_TEXT =
  /\b(rate[ _-]?limit(ed)?|usage limit|too many requests|quota (exceeded|exhausted)|resource[ _]exhausted|limit reached|429)\b/i;

export function isRateLimitText(text: string): boolean {
  return LIMIT_TEXT.test(text);
}

/**
 * The reset time a limit message carries, as an ISO timestamp when it is absolute: an epoch after a
 * `|` (older Claude Code: `Claude AI usage limit reached|1767279600`), or an ISO timestamp in the text.
 * A relative phrase ("resets 3pm (Europe/Paris)") is returned as written, since its date is unknown.
 */
export function resetTimeFrom(text: string): string | undefined {
  const epoch = /\|\s*(\d{10})\b/.exec(text);
  if (epoch?.[1]) return new Date(Number(epoch[1]) * 1000).toISOString();
  const iso = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?/.exec(text);
  if (iso) {
    const t = Date.parse(iso[0]);
    if (!Number.isNaN(t)) return new Date(t).toISOString();
  }
  const phrase = /\bresets? (at |in )?([^.\n·|]{1,60})/i.exec(text);
  return phrase?.[2]?.trim();
}

/** Epoch seconds (or milliseconds) to ISO. */
export function epochToIso(v: unknown): string | undefined {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) return undefined;
  return new Date(v < 1e12 ? v * 1000 : v).toISOString();
}
