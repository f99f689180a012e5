/** Shared by the worker-facing commands: finding the run, the sender, and reading stdin. */
import { OrchError } from '@orch/core';

/** Who a message or context entry is from: --from, else the worker's ORCH_TASK, else `user`. */
export function senderName(from: string | undefined): string {
  return from ?? (process.env.ORCH_TASK || 'user');
}

export function requireText(value: string | undefined, what: string, max: number): string {
  const text = (value ?? '').trim();
  if (text === '') {
    throw new OrchError('ERR_ORCH_INVALID_INPUT', `${what} is empty`, { hint: `Give a non-empty ${what}.` });
  }
  if (Buffer.byteLength(text, 'utf8') > max) {
    throw new OrchError('ERR_ORCH_INVALID_INPUT', `${what} is longer than ${max} bytes`, {
      hint: 'Keep it short; put long content in a file and name the file.',
    });
  }
  return text;
}

export async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return '';
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
