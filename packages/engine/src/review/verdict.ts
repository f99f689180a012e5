/**
 * The reviewer's answer: one JSON object (roles/reviewer.md). Models wrap JSON in prose or code
 * fences now and then, so every plausible JSON span of the text is tried before giving up.
 */
import { z } from 'zod';

export const ReviewAnswer = z.discriminatedUnion('verdict', [
  z.object({ verdict: z.literal('accept'), summary: z.string().optional() }),
  z.object({
    verdict: z.literal('iterate'),
    summary: z.string().optional(),
    /** Shapes are checked by the plan schema (new-tasks.ts), with the old tasks for context. */
    tasks: z.array(z.unknown()).min(1, 'an iterate verdict needs at least one new task'),
  }),
]);
export type ReviewAnswer = z.infer<typeof ReviewAnswer>;

export type ParsedAnswer = { ok: true; answer: ReviewAnswer } | { ok: false; problem: string };

/** Candidate JSON texts: the whole answer, each fenced block, then the outermost braces. */
function candidates(text: string): string[] {
  const out = [text.trim()];
  for (const m of text.matchAll(/```(?:json)?[ \t]*\r?\n([\s\S]*?)```/g)) out.push((m[1] ?? '').trim());
  const first = text.indexOf('{');
  const last = text.lastIndexOf('}');
  if (first >= 0 && last > first) out.push(text.slice(first, last + 1));
  return [...new Set(out)].filter((c) => c.startsWith('{'));
}

export function parseReviewAnswer(text: string): ParsedAnswer {
  if (text.trim() === '') return { ok: false, problem: 'the answer was empty' };
  let problem = 'the answer contains no JSON object';
  for (const c of candidates(text)) {
    let data: unknown;
    try {
      data = JSON.parse(c);
    } catch {
      continue;
    }
    const parsed = ReviewAnswer.safeParse(data);
    if (parsed.success) return { ok: true, answer: parsed.data };
    problem = `the JSON object does not match the verdict format: ${parsed.error.issues
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ')}`;
  }
  return { ok: false, problem };
}
