/** Context window sizes by model name, for the dashboard's "context used" figure. */
const DEFAULT_CLAUDE = 200_000;

const KNOWN: readonly [RegExp, number][] = [
  // Claude Code's long-context variants are spelled with a `[1m]` suffix (e.g. `sonnet[1m]`).
  [/\[1m\]$/i, 1_000_000],
  [/^(claude|opus|sonnet|haiku)/i, DEFAULT_CLAUDE],
  [/^gemini/i, 1_048_576],
  [/^(gpt-5|codex)/i, 400_000],
  [/^gpt-4\.1/i, 1_047_576],
  [/^(gpt-4o|o3|o4)/i, 128_000],
];

/** Tokens in the model's context window; 200k (the Claude default) when the model is unknown or absent. */
export function contextWindowFor(model?: string): number {
  if (!model) return DEFAULT_CLAUDE;
  for (const [re, size] of KNOWN) if (re.test(model)) return size;
  return DEFAULT_CLAUDE;
}
